/**
 * Wire-level constants and types of the formcall protocol (see PROTOCOL.md beside this package).
 */

/** Default path of the call endpoint; servers may mount it under another prefix. */
export const DEFAULT_RPC_PATH = '/rpc'

/** Name of the multipart field (or urlencoded / query key) that carries the call. `JSON` is accepted too. */
export const CALL_FIELD = 'json'
/** Accepted spellings of the call field, for krpc compatibility. */
export const CALL_FIELD_NAMES: readonly string[] = ['json', 'JSON']

/** Response header that marks a body as a file the method returned, not a JSON envelope. */
export const DOWNLOAD_HEADER = 'x-formcall-download'

/** Request header a client may send to name the call for logs and proxies (informational only). */
export const METHOD_HEADER = 'x-formcall-method'

/** The JSON-RPC version string every response carries. */
export const JSONRPC_VERSION = '2.0'

/** A JSON-RPC id. */
export type CallId = string | number | null

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/**
 * A call as it travels in the `json` part, a JSON body, a urlencoded `json=` field or a `?json=` query.
 *
 * @example
 * ```ts
 * const call: CallEnvelope = { method: 'files.store', params: [{ title: 'a', file: { $file: 'f0' } }] }
 * ```
 */
export interface CallEnvelope {
  /** Dotted method name: `files.store` names `methods.files.store`. */
  method: string
  /** Positional (array) or named (object) parameters; absent means none. */
  params?: unknown[] | Record<string, unknown>
  /** JSON-RPC id, echoed in the response; absent is answered with `null`. */
  id?: CallId
  /** Present on JSON-RPC 2.0 requests; a JSON-RPC request without `id` is a notification. */
  jsonrpc?: '2.0'
  /** krpc's pre-method-hook params: handed to the server's before-call hook, never to the method. */
  pmhparams?: unknown
}

/** The `error` member of an error response. */
export interface ErrorObject {
  code: number
  message: string
  data?: unknown
}

/** A successful response envelope. */
export interface SuccessResponse<T = unknown> {
  jsonrpc: '2.0'
  id: CallId
  result: T
}

/** An error response envelope. */
export interface ErrorResponse {
  jsonrpc: '2.0'
  id: CallId
  error: ErrorObject
}

/** Either response envelope. */
export type ResponseEnvelope<T = unknown> = SuccessResponse<T> | ErrorResponse
