import { CALL_FIELD } from '@formcall/spec'
import { callJson, collectFiles, type CallParamsLike, type FoundFile } from '@formcall/spec/client'
import { classifyFileLike, filenameOf } from './classify-file-like.js'

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
 * field `json` and each file in a part `f0`, `f1`, … that a `{"$file": …}` placeholder in params names. The params
 * walk and the call's JSON are the ones both clients share (`@formcall/spec/client`); it throws a TypeError, before
 * anything is sent, for params JSON cannot carry.
 *
 * @example
 * ```ts
 * encodeCall({ id: 1, method: 'echo', params: ['hi'] })
 * // { body: '{"jsonrpc":"2.0","id":1,"method":"echo","params":["hi"]}', contentType: 'application/json' }
 * ```
 */
export function encodeCall (call: { id: number; method: string; params: CallParamsLike | undefined }): EncodedCall {
  const { params, files } = collectFiles(call.params, classifyFileLike)
  return encodeCollected({ id: call.id, method: call.method, params, files })
}

/**
 * The second half of `encodeCall`, for params whose files were already taken out (`collectFiles`) and perhaps
 * partly replaced by upload placeholders: the call's JSON, and a part for each file in `files`.
 *
 * @example
 * ```ts
 * const { params, files } = collectFiles([blob], classifyFileLike)
 * encodeCollected({ id: 1, method: 'files.store', params, files })
 * ```
 */
export function encodeCollected (call: { id: number; method: string; params: unknown; files: readonly FoundFile<Blob>[] }): EncodedCall {
  const { params, files } = call
  const json = callJson({ id: call.id, method: call.method, params })
  if (files.length === 0) return { body: json, contentType: 'application/json' }

  const form = new FormData()
  // The call goes first: the server starts the method as soon as it has parsed this field, and the method then
  // reads the files while they are still arriving.
  form.append(CALL_FIELD, json)
  for (const { part, file } of files) form.append(part, file, filenameOf(file))
  return { body: form, contentType: null }
}
