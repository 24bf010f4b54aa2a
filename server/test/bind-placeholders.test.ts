import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCode, RpcError } from '@formcall/spec'
import { bindPlaceholders, type FileBinder } from '../src/bind/bind-placeholders.js'
import type { UploadedFile, UploadedFiles } from '../src/bind/uploaded-file.js'

function recordingBinder (): FileBinder & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    file: (part) => { asked.push(`file:${part}`); return { bound: part } as unknown as UploadedFile },
    files: (part) => { asked.push(`files:${part}`); return { boundAll: part } as unknown as UploadedFiles },
    upload: (placeholder) => { asked.push(`upload:${placeholder.id}`); return { upload: placeholder.id } as unknown as UploadedFile }
  }
}

test('placeholders at any depth are replaced, in every form; the params are left as they came', () => {
  const binder = recordingBinder()
  const params: unknown[] = [{ title: 't', file: { $file: 'f0' }, nested: [[{ docs: { $files: 'd' } }]], other: [1] }, '__file__:1700-ab']
  const sent = structuredClone(params)
  const { args, files } = bindPlaceholders(params, binder)
  assert.deepEqual(args, [{ title: 't', file: { bound: 'f0' }, nested: [[{ docs: { boundAll: 'd' } }]], other: [1] }, { bound: '__file__:1700-ab' }])
  assert.deepEqual(binder.asked, ['file:f0', 'files:d', 'file:__file__:1700-ab'])
  assert.deepEqual([...files.keys()], ['f0', 'd', '__file__:1700-ab'])
  assert.deepEqual(params, sent)
  // Only the path to a placeholder is copied: a value without one is shared.
  assert.equal((args[0] as { other: unknown }).other, (params[0] as { other: unknown }).other)
})

test('objects with other keys beside $file, forged markers and plain strings are left alone, and nothing is copied', () => {
  const binder = recordingBinder()
  const params: unknown[] = [{ $file: 'f0', note: 'x' }, { $file: '' }, { $file: 3 }, { $formcallFile: 0 }, '__file__:', 'file', null, 1]
  const { args, files } = bindPlaceholders(params, binder)
  assert.equal(args, params)
  assert.equal(files.size, 0)
  assert.deepEqual(args, [{ $file: 'f0', note: 'x' }, { $file: '' }, { $file: 3 }, { $formcallFile: 0 }, '__file__:', 'file', null, 1])
})

test('a key named __proto__ beside a placeholder stays a plain own property of the copy', () => {
  const params: unknown[] = [JSON.parse('{"__proto__": {"polluted": true}, "file": {"$file": "f0"}}')]
  const { args } = bindPlaceholders(params, recordingBinder())
  const copy = args[0] as Record<string, unknown>
  assert.equal(Object.getPrototypeOf(copy), Object.prototype)
  assert.deepEqual(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value, { polluted: true })
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
})

test('a placeholder in a call sent without parts is a missing file', () => {
  assert.throws(() => bindPlaceholders([{ f: { $file: 'f0' } }], undefined), (err: unknown) =>
    err instanceof RpcError && err.code === ErrorCode.MISSING_FILE && (err.data as { part: string }).part === 'f0')
})

test('params nested beyond the depth bound are refused, not recursed into', () => {
  let deep: unknown = 'leaf'
  for (let i = 0; i < 1000; i++) deep = [deep]
  assert.throws(() => bindPlaceholders([deep], recordingBinder()), (err: unknown) =>
    err instanceof RpcError && err.code === ErrorCode.INVALID_PARAMS)
})
