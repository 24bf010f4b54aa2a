import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { parseUploadPlaceholder, type UploadPlaceholder } from '@formcall/spec'
import { bindPlaceholders, type FileBinder } from '../src/bind/bind-placeholders.js'
import { UploadedFile, type UploadedFiles } from '../src/bind/uploaded-file.js'
import { UploadTokens } from '../src/uploads/upload-tokens.js'

function partsBinder (): FileBinder {
  return {
    file: (part) => new UploadedFile(part, { info: { field: part, filename: 'a.txt', type: 'text/plain' }, ready: async () => { throw new Error('unused') }, open: () => { throw new Error('unused') } }),
    files: (part) => ({ boundAll: part }) as unknown as UploadedFiles
  }
}

function uploadsBinder (): FileBinder & { asked: UploadPlaceholder[] } {
  const asked: UploadPlaceholder[] = []
  return {
    asked,
    file: (part) => { throw new Error(`parts are bound in the first pass, not here: ${part}`) },
    files: (part) => { throw new Error(`parts are bound in the first pass, not here: ${part}`) },
    upload: (placeholder) => {
      asked.push(placeholder)
      return { upload: placeholder.id } as unknown as UploadedFile
    }
  }
}

test('an upload placeholder is its id or URL with a token, and nothing with other keys', () => {
  const table: Array<[unknown, UploadPlaceholder | undefined]> = [
    [{ $upload: 'a1', token: 't' }, { id: 'a1', token: 't' }],
    [{ $upload: 'a1' }, { id: 'a1', token: undefined }],
    [{ $upload: 'a1', token: 5 }, { id: 'a1', token: 5 }],
    [{ $upload: 'http://h:1/rpc/uploads/a1', token: 't' }, { id: 'a1', token: 't' }],
    [{ $upload: '/rpc/uploads/a1/', token: 't' }, { id: 'a1', token: 't' }],
    [{ $upload: 'https://h/rpc/uploads/a1?x=/y#/z', token: 't' }, { id: 'a1', token: 't' }],
    [{ $upload: '', token: 't' }, undefined],
    [{ $upload: 7, token: 't' }, undefined],
    [{ $upload: 'a1', token: 't', title: 'x' }, undefined],
    [[{ $upload: 'a1' }], undefined],
    ['$upload:a1', undefined],
    [JSON.parse('{"__proto__": {"$upload": "a1"}}'), undefined],
    [null, undefined]
  ]
  for (const [value, expected] of table) assert.deepEqual(parseUploadPlaceholder(value), expected, JSON.stringify(value))
})

test('parts and uploads bind in two passes of the one binder walk: the first leaves uploads, the second leaves the file objects', () => {
  const params: unknown[] = [{ doc: { $file: 'f0' }, video: { $upload: 'v1', token: 't' }, deep: [[{ $upload: 'http://h/rpc/uploads/v2', token: 'u' }]] }]
  const sent = structuredClone(params)
  const first = bindPlaceholders(params, partsBinder())
  assert.deepEqual([...first.files.keys()], ['f0'])
  const firstArg = first.args[0] as Record<string, unknown>
  assert.ok(firstArg.doc instanceof UploadedFile)
  assert.deepEqual(firstArg.video, { $upload: 'v1', token: 't' }, 'a binder without upload() leaves the placeholder as it is')

  const binder = uploadsBinder()
  const second = bindPlaceholders(first.args, binder)
  assert.deepEqual(binder.asked, [{ id: 'v1', token: 't' }, { id: 'v2', token: 'u' }])
  assert.deepEqual([...second.files.keys()], ['$upload:v1', '$upload:v2'])
  const arg = second.args[0] as Record<string, any>
  assert.equal(arg.doc, firstArg.doc, 'the file object bound in the first pass is passed through untouched')
  assert.deepEqual(arg.video, { upload: 'v1' })
  assert.deepEqual(arg.deep, [[{ upload: 'v2' }]])
  assert.deepEqual(params, sent, 'the wire params are left as they came')
})

test('without a binder an upload placeholder stays as sent, while a part placeholder is a missing file', () => {
  const { args, files } = bindPlaceholders([{ $upload: 'v1', token: 't' }], undefined)
  assert.deepEqual(args, [{ $upload: 'v1', token: 't' }])
  assert.equal(files.size, 0)
})

test('an upload token verifies only for its own id, under its own secret, and only in its exact form', () => {
  const secret = randomBytes(32)
  const tokens = new UploadTokens(secret)
  const id = randomBytes(16).toString('hex')
  const token = tokens.issue(id)
  assert.match(token, /^[A-Za-z0-9_-]{43}$/)
  assert.equal(tokens.verify(id, token), true)
  assert.equal(new UploadTokens(Buffer.from(secret)).verify(id, token), true, 'another instance with the same secret')
  assert.equal(new UploadTokens(randomBytes(32)).verify(id, token), false, 'another secret')
  assert.equal(tokens.verify(`${id}0`, token), false, 'another id')
  for (const forged of [undefined, null, 42, '', token.slice(0, -1), `${token}A`, `${token}=`, ` ${token}`, token.replace(/.$/, (c) => c === 'A' ? 'B' : 'A')]) {
    assert.equal(tokens.verify(id, forged), false, JSON.stringify(forged))
  }
})
