import { JSONRPC_VERSION, type CallId } from '../wire.js'

/**
 * A call ready to be written as JSON: its files already replaced by placeholders.
 *
 * @example
 * ```ts
 * const call: CallToWrite = { id: 1, method: 'files.store', params: [{ file: { $file: 'f0' } }] }
 * ```
 */
export interface CallToWrite {
  id: CallId
  method: string
  /** `undefined` writes no `params` member, which the server reads as no parameters. */
  params: unknown
}

/**
 * The JSON text of a call, as both clients send it: a JSON-RPC 2.0 request, so that servers that pick an error's
 * HTTP status by the caller's dialect treat formcall's clients alike.
 *
 * Throws a TypeError naming the method when the params cannot be written (BigInt, a cycle hidden behind `toJSON`),
 * before anything is sent.
 *
 * @example
 * ```ts
 * callJson({ id: 3, method: 'echo', params: ['hi'] }) // '{"jsonrpc":"2.0","id":3,"method":"echo","params":["hi"]}'
 * ```
 */
export function callJson (call: CallToWrite): string {
  try {
    return JSON.stringify({ jsonrpc: JSONRPC_VERSION, id: call.id, method: call.method, params: call.params })
  } catch (err) {
    throw new TypeError(`the params of "${call.method}" cannot be sent as JSON: ${(err as Error).message}; ` +
      'convert BigInt and other non-JSON values before the call', { cause: err })
  }
}
