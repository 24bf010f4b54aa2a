import { decodeEnvelope } from '@formcall/spec/client'

/**
 * Reads a response body by the rule both clients share (`decodeEnvelope`, PROTOCOL.md 5.7), whatever the HTTP status:
 * resolves with the `result` of an envelope that answers this call, throws `RpcError` for its `error`, and throws
 * `TransportError` of kind `protocol` for anything else (a proxy's HTML error page, an answer to another call).
 *
 * @example
 * ```ts
 * readEnvelope('{"jsonrpc":"2.0","id":1,"result":"hi"}', 200, { id: 1, method: 'echo' }) // 'hi'
 * ```
 */
export function readEnvelope (text: string, status: number, call: { id: number; method: string }, contentType?: string | null): unknown {
  return decodeEnvelope(text, { id: call.id, label: `call "${call.method}"`, status, contentType })
}
