/**
 * The one registry of formcall error codes.
 *
 * JSON-RPC 2.0 reserves -32768..-32000. The first five codes are JSON-RPC's own, -32000..-32003 keep the meaning
 * krpc gave them, and the rest are formcall's. Each code has one HTTP status, so curl and proxies can act on the
 * status line. `transport: true` marks the codes about the HTTP exchange rather than the call (a body over a limit,
 * a refused origin, overload, shutdown): they keep their status for every caller. The others are answered with HTTP
 * 200 to calls that speak JSON-RPC 2.0 or krpc, whose clients read errors from the envelope and treat any other status
 * as a failed transport (PROTOCOL.md section 8). Codes outside this table are application codes, chosen by methods
 * that throw `RpcError`.
 *
 * @example
 * ```ts
 * import { ErrorCode, errorInfo } from '@formcall/spec'
 * errorInfo(ErrorCode.METHOD_NOT_FOUND).httpStatus // 404
 * ```
 */
export const ERROR_REGISTRY = {
  [-32700]: { name: 'PARSE_ERROR', httpStatus: 400, transport: true, message: 'The call is not valid JSON' },
  [-32600]: { name: 'INVALID_REQUEST', httpStatus: 400, message: 'The request is not a valid formcall call' },
  [-32601]: { name: 'METHOD_NOT_FOUND', httpStatus: 404, message: 'No such method' },
  [-32602]: { name: 'INVALID_PARAMS', httpStatus: 400, message: 'Invalid method parameters' },
  [-32603]: { name: 'INTERNAL_ERROR', httpStatus: 500, message: 'Internal server error' },
  [-32000]: { name: 'METHOD_RAISED', httpStatus: 500, message: 'The method raised an error' },
  [-32001]: { name: 'UNHANDLED', httpStatus: 500, message: 'An unhandled error occurred outside the method' },
  [-32002]: { name: 'MISSING_FILE', httpStatus: 400, message: 'A file the call refers to was not sent' },
  [-32003]: { name: 'RESULT_NOT_SERIALIZABLE', httpStatus: 500, message: 'The method returned a value that cannot be sent as JSON' },
  [-32004]: { name: 'LIMIT_EXCEEDED', httpStatus: 413, transport: true, message: 'A size or count limit was exceeded' },
  [-32005]: { name: 'CALL_TIMEOUT', httpStatus: 504, message: 'The method did not finish within the call timeout' },
  [-32006]: { name: 'WORKER_CRASHED', httpStatus: 500, message: 'The worker running the method died' },
  [-32007]: { name: 'OVERLOADED', httpStatus: 503, transport: true, message: 'The server is at capacity; retry later' },
  [-32008]: { name: 'ABORTED', httpStatus: 499, transport: true, message: 'The call was aborted before it finished' },
  [-32009]: { name: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: 415, transport: true, message: 'Unsupported request content type' },
  [-32010]: { name: 'ORIGIN_NOT_ALLOWED', httpStatus: 403, transport: true, message: 'Calls from this origin are not allowed' },
  [-32011]: { name: 'UNAUTHORIZED', httpStatus: 401, message: 'Authentication is required' },
  [-32012]: { name: 'FORBIDDEN', httpStatus: 403, message: 'The caller may not make this call' },
  [-32013]: { name: 'UPLOAD_STALLED', httpStatus: 408, transport: true, message: 'The upload stopped sending data' },
  [-32014]: { name: 'HTTP_METHOD_NOT_ALLOWED', httpStatus: 405, transport: true, message: 'This HTTP method is not accepted here' },
  [-32015]: { name: 'SHUTTING_DOWN', httpStatus: 503, transport: true, message: 'The server is shutting down' },
  [-32016]: { name: 'UPLOAD_NOT_FOUND', httpStatus: 404, message: 'No upload has this id; upload the file again' },
  [-32017]: { name: 'UPLOAD_INCOMPLETE', httpStatus: 409, message: 'The upload has not received all its bytes; resume it to its end, then call again' },
  [-32018]: { name: 'UPLOAD_EXPIRED', httpStatus: 410, message: 'The upload expired; upload the file again' },
  [-32019]: { name: 'UPLOAD_FORBIDDEN', httpStatus: 403, message: 'The upload\'s token is missing or wrong; send the Upload-Token returned when the upload was created' },
  [-32020]: { name: 'FILE_TYPE_NOT_ACCEPTED', httpStatus: 415, message: 'A file is not of a media type its parameter accepts' }
} as const satisfies Record<number, { name: string; httpStatus: number; transport?: true; message: string }>

/** A code in the registry. */
export type RegisteredCode = keyof typeof ERROR_REGISTRY
/** A registered code's symbolic name. */
export type ErrorCodeName = (typeof ERROR_REGISTRY)[RegisteredCode]['name']

/**
 * Symbolic names for every registered code.
 *
 * @example
 * ```ts
 * throw new RpcError(ErrorCode.FORBIDDEN, 'only admins may delete files')
 * ```
 */
export const ErrorCode = Object.freeze(
  Object.fromEntries(Object.entries(ERROR_REGISTRY).map(([code, info]) => [info.name, Number(code)]))
) as { readonly [K in ErrorCodeName]: Extract<{ [C in RegisteredCode]: (typeof ERROR_REGISTRY)[C]['name'] extends K ? C : never }[RegisteredCode], number> }

/**
 * HTTP status for application codes: a method threw `RpcError` with a code of its own, a deliberate refusal of
 * this call rather than a server fault.
 */
export const APPLICATION_ERROR_HTTP_STATUS = 400

/**
 * The registry entry of a code, or `undefined` for application codes.
 *
 * @example
 * ```ts
 * errorInfo(-32004)?.name // 'LIMIT_EXCEEDED'
 * ```
 */
export function errorInfo (code: number): { name: string; httpStatus: number; transport?: true; message: string } | undefined {
  return Object.hasOwn(ERROR_REGISTRY, code) ? ERROR_REGISTRY[code as RegisteredCode] : undefined
}

/**
 * Whose rule decides an error's HTTP status: `'status'` for callers that read the status line (curl, plain HTTP
 * tools: a call without `jsonrpc` or `pmhparams`), `'envelope'` for JSON-RPC 2.0 and krpc calls, whose clients read
 * the error from the body and fail on any non-2xx status before reading it.
 */
export type StatusRule = 'status' | 'envelope'

/**
 * The HTTP status a response carrying `code` must have. Under the `'envelope'` rule every code but the transport
 * codes is answered with 200.
 *
 * @example
 * ```ts
 * httpStatusOf(-32007)             // 503
 * httpStatusOf(4001)               // 400 (application code)
 * httpStatusOf(-32601, 'envelope') // 200 (a JSON-RPC client reads the envelope)
 * httpStatusOf(-32004, 'envelope') // 413 (a limit is the HTTP exchange's, whoever calls)
 * ```
 */
export function httpStatusOf (code: number, rule: StatusRule = 'status'): number {
  const info = errorInfo(code)
  if (rule === 'envelope' && info?.transport !== true) return 200
  return info?.httpStatus ?? APPLICATION_ERROR_HTTP_STATUS
}

/**
 * The status rule for a parsed call object: `'envelope'` when it speaks JSON-RPC 2.0 (`"jsonrpc": "2.0"`) or krpc
 * (has `pmhparams`, which krpc's client always sends), `'status'` otherwise, including anything that is not a call.
 */
export function statusRuleOf (call: unknown): StatusRule {
  if (typeof call !== 'object' || call === null || Array.isArray(call)) return 'status'
  const { jsonrpc } = call as { jsonrpc?: unknown }
  return jsonrpc === '2.0' || Object.hasOwn(call, 'pmhparams') ? 'envelope' : 'status'
}
