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
    files: (part) => { asked.push(`files:${part}`); return { boundAll: part } as unknown as UploadedFiles }
  }
}

test('placeholders at any depth are replaced, in every form', () => {
  const binder = recordingBinder()
  const args: unknown[] = [{ title: 't', file: { $file: 'f0' }, nested: [[{ docs: { $files: 'd' } }]] }, '__file__:1700-ab']
  assert.equal(bindPlaceholders(args, binder), 3)
  assert.deepEqual(args, [{ title: 't', file: { bound: 'f0' }, nested: [[{ docs: { boundAll: 'd' } }]] }, { bound: '__file__:1700-ab' }])
  assert.deepEqual(binder.asked, ['file:f0', 'files:d', 'file:__file__:1700-ab'])
})

test('objects with other keys beside $file, and plain strings, are left alone', () => {
  const binder = recordingBinder()
  const args: unknown[] = [{ $file: 'f0', note: 'x' }, { $file: '' }, { $file: 3 }, '__file__:', 'file', null, 1]
  assert.equal(bindPlaceholders(args, binder), 0)
  assert.deepEqual(args, [{ $file: 'f0', note: 'x' }, { $file: '' }, { $file: 3 }, '__file__:', 'file', null, 1])
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
