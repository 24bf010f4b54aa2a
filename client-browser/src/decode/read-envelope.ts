import { RpcError } from '@formcall/spec'
import type { ErrorObject } from '@formcall/spec'
import { TransportError } from '../errors.js'

/**
 * Reads a JSON-RPC response envelope: resolves with `result`, throws `RpcError` for `error`, and throws
 * `TransportError` of kind `protocol` for anything else (a proxy's HTML error page, an answer to another call).
 *
 * @example
 * ```ts
 * readEnvelope('{"jsonrpc":"2.0","id":1,"result":"hi"}', 200, { id: 1, method: 'echo' }) // 'hi'
 * ```
 */
export function readEnvelope (text: string, status: number, call: { id: number; method: string }): unknown {
  let envelope: unknown
  try {
    envelope = JSON.parse(text)
  } catch (err) {
    throw notFormcall(status, call.method, `a body that is not JSON: ${excerpt(text)}`, err)
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    throw notFormcall(status, call.method, `JSON that is not an envelope object: ${excerpt(text)}`)
  }
  const fields = envelope as Record<string, unknown>
  // An error may carry id null (the server could not read the call), so it is not matched against ours.
  if (isErrorObject(fields.error)) throw RpcError.fromJSON(fields.error)
  if (!('result' in fields)) throw notFormcall(status, call.method, `an envelope with neither result nor error: ${excerpt(text)}`)
  if (fields.id !== call.id) {
    throw notFormcall(status, call.method, `the answer to another call (id ${JSON.stringify(fields.id)}, expected ${call.id})`)
  }
  return fields.result
}

function isErrorObject (value: unknown): value is ErrorObject {
  if (typeof value !== 'object' || value === null) return false
  const { code, message } = value as Record<string, unknown>
  return Number.isInteger(code) && typeof message === 'string'
}

function notFormcall (status: number, method: string, what: string, cause?: unknown): TransportError {
  return new TransportError('protocol',
    `call "${method}" got HTTP ${status} with ${what}; is the URL a formcall endpoint, and no proxy answering in its place?`,
    { status, cause })
}

function excerpt (text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 120)}…` : flat)
}
