import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { ErrorCode, RpcError, parseUploadPlaceholder, type UploadPlaceholder } from '@formcall/spec'
import { bindPlaceholders, type PartBinder } from '../src/bind/bind-placeholders.js'
import { CallBinder, type CallUploads } from '../src/bind/call-binder.js'
import { UploadedFile, type UploadedFiles } from '../src/bind/uploaded-file.js'
import { UploadTokens } from '../src/uploads/upload-tokens.js'

function partsBinder (): PartBinder {
  return {
    file: (part) => new UploadedFile(part, { info: { field: part, filename: 'a.txt', type: 'text/plain' }, ready: async () => { throw new Error('unused') }, open: () => { throw new Error('unused') } }),
    files: (part) => ({ boundAll: part }) as unknown as UploadedFiles
  }
}

function recordingUploads (): CallUploads & { asked: UploadPlaceholder[] } {
  const asked: UploadPlaceholder[] = []
  return {
    asked,
    upload: (placeholder) => {
      asked.push(placeholder)
      return { upload: placeholder.id } as unknown as UploadedFile
    },
    open: async () => {},
    settle: async () => {}
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

test('parts and uploads bind in one pass: each placeholder to its file object, keyed by part name or $upload:<id>', () => {
  const params: unknown[] = [{ doc: { $file: 'f0' }, video: { $upload: 'v1', token: 't' }, deep: [[{ $upload: 'http://h/rpc/uploads/v2', token: 'u' }]] }]
  const sent = structuredClone(params)
  const uploads = recordingUploads()
  const { args, files } = bindPlaceholders(params, new CallBinder(partsBinder(), uploads))
  assert.deepEqual(uploads.asked, [{ id: 'v1', token: 't' }, { id: 'v2', token: 'u' }])
  assert.deepEqual([...files.keys()], ['f0', '$upload:v1', '$upload:v2'])
  const arg = args[0] as Record<string, any>
  assert.ok(arg.doc instanceof UploadedFile)
  assert.deepEqual(arg.video, { upload: 'v1' })
  assert.deepEqual(arg.deep, [[{ upload: 'v2' }]])
  assert.deepEqual(params, sent, 'the wire params are left as they came')
})

test('an upload placeholder where no upload can bind is an unknown upload, never data; a part placeholder without parts is a missing file', () => {
  const isCode = (code: number) => (err: unknown) => err instanceof RpcError && err.code === code
  for (const binder of [undefined, new CallBinder(partsBinder(), undefined)]) {
    assert.throws(() => bindPlaceholders([{ $upload: 'v1', token: 't' }], binder), isCode(ErrorCode.UPLOAD_NOT_FOUND))
  }
  for (const binder of [undefined, new CallBinder(undefined, recordingUploads())]) {
    assert.throws(() => bindPlaceholders([{ $file: 'f0' }], binder), isCode(ErrorCode.MISSING_FILE))
  }
})

test('a part named like an upload\'s key cannot stand beside that upload', () => {
  const params = [{ $file: '$upload:v1' }, { $upload: 'v1', token: 't' }]
  assert.throws(() => bindPlaceholders(params, new CallBinder(partsBinder(), recordingUploads())),
    (err: unknown) => err instanceof RpcError && err.code === ErrorCode.INVALID_PARAMS && /named like the upload/.test(err.message))
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
