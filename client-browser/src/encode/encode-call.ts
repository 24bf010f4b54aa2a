import { CALL_FIELD, JSONRPC_VERSION } from '@formcall/spec'
import { extractFiles } from './extract-files.js'

/**
 * A request body ready for the sender.
 *
 * @example
 * ```ts
 * const { body, contentType }: EncodedCall = encodeCall({ id: 1, method: 'echo', params: ['hi'] })
 * ```
 */
export interface EncodedCall {
  /** A JSON text, or a FormData whose first field is the call. */
  body: string | FormData
  /** `application/json` for JSON bodies; `null` for FormData, whose content type (with its boundary) the browser sets. */
  contentType: string | null
}

/**
 * Encodes one call: a JSON body when params hold no file, else `multipart/form-data` with the call in the first
 * field `json` and each file in a part `f0`, `f1`, … that a `{"$file": …}` placeholder in params names.
 *
 * @example
 * ```ts
 * encodeCall({ id: 1, method: 'echo', params: ['hi'] })
 * // { body: '{"jsonrpc":"2.0","id":1,"method":"echo","params":["hi"]}', contentType: 'application/json' }
 * ```
 */
export function encodeCall (call: { id: number; method: string; params: readonly unknown[] | Record<string, unknown> }): EncodedCall {
  const { params, parts } = extractFiles(call.params)
  const json = JSON.stringify({ jsonrpc: JSONRPC_VERSION, id: call.id, method: call.method, params })
  if (parts.length === 0) return { body: json, contentType: 'application/json' }

  const form = new FormData()
  // The call goes first: the server starts the method as soon as it has parsed this field, and the method then
  // reads the files while they are still arriving.
  form.append(CALL_FIELD, json)
  for (const part of parts) form.append(part.name, part.file, part.filename)
  return { body: form, contentType: null }
}
