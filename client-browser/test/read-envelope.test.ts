import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCode, RpcError } from '@formcall/spec'
import { readEnvelope } from '../src/decode/read-envelope.js'
import { TransportError } from '../src/errors.js'

const call = { id: 7, method: 'files.store' }

test('a result envelope for this call resolves with its result, null included', () => {
  assert.deepEqual(readEnvelope('{"jsonrpc":"2.0","id":7,"result":{"stored":true}}', 200, call), { stored: true })
  assert.equal(readEnvelope('{"jsonrpc":"2.0","id":7,"result":null}', 200, call), null)
})

test('an error envelope throws the shared RpcError, whatever its id', () => {
  assert.throws(
    () => readEnvelope('{"jsonrpc":"2.0","id":null,"error":{"code":-32004,"message":"file too big","data":{"limit":"fileSize"}}}', 413, call),
    (err: unknown) => err instanceof RpcError && err.code === ErrorCode.LIMIT_EXCEEDED && err.message === 'file too big' &&
      (err.data as { limit: string }).limit === 'fileSize'
  )
})

const notFormcall: { what: string; text: string; status: number; message: RegExp }[] = [
  { what: 'an HTML page', text: '<!doctype html><h1>Bad Gateway</h1>', status: 502, message: /HTTP 502 that is not a formcall answer: a body that is not JSON/ },
  { what: 'a JSON array', text: '[]', status: 200, message: /JSON that is not an envelope object/ },
  { what: 'an envelope with neither result nor error', text: '{"jsonrpc":"2.0","id":7}', status: 200, message: /neither result nor error/ },
  { what: 'a malformed error', text: '{"jsonrpc":"2.0","id":7,"error":{"code":"x"}}', status: 500, message: /an error that is not \{ code: integer, message: string \}/ },
  { what: 'the answer to another call', text: '{"jsonrpc":"2.0","id":8,"result":1}', status: 200, message: /another call \(id 8, expected 7\)/ }
]

for (const { what, text, status, message } of notFormcall) {
  test(`${what} throws a protocol TransportError with the HTTP status`, () => {
    assert.throws(() => readEnvelope(text, status, call),
      (err: unknown) => err instanceof TransportError && err.kind === 'protocol' && err.status === status && message.test(err.message))
  })
}
