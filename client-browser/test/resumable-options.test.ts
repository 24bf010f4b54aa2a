import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mergeCallOptions, noCallOptions } from '../src/call-options.js'
import { DEFAULT_RESUMABLE, mergeResumable, resumable, resumableOptionsOf } from '../src/resumable.js'
import { uploadsEndpoint } from '../src/uploads/index.js'
import { rememberKey } from '../src/uploads/upload-store.js'

test('resumable() returns a new File with the same name, type, last-modified time and bytes, and marks only that one', async () => {
  const original = new File(['video bytes'], 'clip.mp4', { type: 'video/mp4', lastModified: 1_700_000_000_000 })
  const marked = resumable(original)

  assert.notEqual(marked, original)
  assert.deepEqual([marked.name, marked.type, marked.lastModified, await marked.text()], ['clip.mp4', 'video/mp4', 1_700_000_000_000, 'video bytes'])
  assert.deepEqual(resumableOptionsOf(marked, DEFAULT_RESUMABLE), {})
  assert.equal(resumableOptionsOf(original, DEFAULT_RESUMABLE), undefined, 'the original still travels in the call')
  assert.deepEqual(resumableOptionsOf(resumable(new Blob(['x']), { fingerprint: 'recording-7' }), DEFAULT_RESUMABLE), { fingerprint: 'recording-7' })
})

test('resumable.above sends files strictly larger than it resumably', () => {
  const settings = mergeResumable(DEFAULT_RESUMABLE, { above: 3 })
  assert.equal(resumableOptionsOf(new Blob(['abc']), settings), undefined)
  assert.deepEqual(resumableOptionsOf(new Blob(['abcd']), settings), {})
})

test('resumable options merge field by field over client and $with layers', () => {
  const client = mergeCallOptions(noCallOptions(), { resumable: { above: 1024, retryDelays: [0, 10] } })
  const derived = mergeCallOptions(client, { resumable: { chunkSize: 4096, rememberUploads: false } })
  assert.deepEqual(derived.resumable, { above: 1024, retryDelays: [0, 10], chunkSize: 4096, rememberUploads: false })
  assert.equal(noCallOptions().resumable.above, undefined, 'without options only resumable() files are uploaded resumably')
})

test('a resumable setting of the wrong type is refused where it is written, with the expected form', () => {
  assert.throws(() => mergeResumable(DEFAULT_RESUMABLE, { above: -1 }), /resumable\.above must be a number of bytes >= 0; got -1/)
  assert.throws(() => mergeResumable(DEFAULT_RESUMABLE, { retryDelays: [0, -5] }), /retryDelays must be an array of milliseconds/)
  assert.throws(() => mergeResumable(DEFAULT_RESUMABLE, { chunkSize: 0 }), /chunkSize must be a number of bytes >= 1/)
  assert.throws(() => mergeResumable(DEFAULT_RESUMABLE, { rememberUploads: 'yes' as unknown as boolean }), /rememberUploads must be true or false/)
  assert.throws(() => resumable('a path' as unknown as Blob), /resumable\(\) takes a File or Blob; got \[object String\]/)
})

test('the tus endpoint is the call URL\'s path with /uploads/ appended, without its query', () => {
  assert.equal(uploadsEndpoint('https://example.com/rpc'), 'https://example.com/rpc/uploads/')
  assert.equal(uploadsEndpoint('https://example.com/api/rpc/?v=2#x'), 'https://example.com/api/rpc/uploads/')
})

test('a File is remembered by name, type, size and last-modified time; a Blob only with a fingerprint', () => {
  const endpoint = 'https://example.com/rpc/uploads/'
  const file = new File(['x'], 'a.txt', { type: 'text/plain', lastModified: 5 })
  assert.equal(rememberKey(file, undefined, endpoint), rememberKey(new File(['y'], 'a.txt', { type: 'text/plain', lastModified: 5 }), undefined, endpoint))
  assert.notEqual(rememberKey(file, undefined, endpoint), rememberKey(new File(['x'], 'a.txt', { type: 'text/plain', lastModified: 6 }), undefined, endpoint))
  assert.equal(rememberKey(new Blob(['x']), undefined, endpoint), undefined)
  assert.notEqual(rememberKey(new Blob(['x']), 'recording-7', endpoint), undefined)
})
