/**
 * The one registry of formcall error codes.
 *
 * JSON-RPC 2.0 reserves -32768..-32000. The first five codes are JSON-RPC's own, -32000..-32003 keep the meaning
 * krpc gave them, and the rest are formcall's. Each code has exactly one HTTP status, so a client (or curl) can act on
 * the status line alone. Codes outside this table are application codes, chosen by methods that throw `RpcError`.
 *
 * @example
 * ```ts
 * import { ErrorCode, errorInfo } from '@formcall/spec'
 * errorInfo(ErrorCode.METHOD_NOT_FOUND).httpStatus // 404
 * ```
 */
export const ERROR_REGISTRY = {
  [-32700]: { name: 'PARSE_ERROR', httpStatus: 400, message: 'The call is not valid JSON' },
  [-32600]: { name: 'INVALID_REQUEST', httpStatus: 400, message: 'The request is not a valid formcall call' },
  [-32601]: { name: 'METHOD_NOT_FOUND', httpStatus: 404, message: 'No such method' },
  [-32602]: { name: 'INVALID_PARAMS', httpStatus: 400, message: 'Invalid method parameters' },
  [-32603]: { name: 'INTERNAL_ERROR', httpStatus: 500, message: 'Internal server error' },
  [-32000]: { name: 'METHOD_RAISED', httpStatus: 500, message: 'The method raised an error' },
  [-32001]: { name: 'UNHANDLED', httpStatus: 500, message: 'An unhandled error occurred outside the method' },
  [-32002]: { name: 'MISSING_FILE', httpStatus: 400, message: 'A file the call refers to was not sent' },
  [-32003]: { name: 'RESULT_NOT_SERIALIZABLE', httpStatus: 500, message: 'The method returned a value that cannot be sent as JSON' },
  [-32004]: { name: 'LIMIT_EXCEEDED', httpStatus: 413, message: 'A size or count limit was exceeded' },
  [-32005]: { name: 'CALL_TIMEOUT', httpStatus: 504, message: 'The method did not finish within the call timeout' },
  [-32006]: { name: 'WORKER_CRASHED', httpStatus: 500, message: 'The worker running the method died' },
  [-32007]: { name: 'OVERLOADED', httpStatus: 503, message: 'The server is at capacity; retry later' },
  [-32008]: { name: 'ABORTED', httpStatus: 499, message: 'The call was aborted before it finished' },
  [-32009]: { name: 'UNSUPPORTED_MEDIA_TYPE', httpStatus: 415, message: 'Unsupported request content type' },
  [-32010]: { name: 'ORIGIN_NOT_ALLOWED', httpStatus: 403, message: 'Calls from this origin are not allowed' },
  [-32011]: { name: 'UNAUTHORIZED', httpStatus: 401, message: 'Authentication is required' },
  [-32012]: { name: 'FORBIDDEN', httpStatus: 403, message: 'The caller may not make this call' },
  [-32013]: { name: 'UPLOAD_STALLED', httpStatus: 408, message: 'The upload stopped sending data' },
  [-32014]: { name: 'HTTP_METHOD_NOT_ALLOWED', httpStatus: 405, message: 'This HTTP method is not accepted here' },
  [-32015]: { name: 'SHUTTING_DOWN', httpStatus: 503, message: 'The server is shutting down' }
} as const satisfies Record<number, { name: string; httpStatus: number; message: string }>

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
export function errorInfo (code: number): { name: string; httpStatus: number; message: string } | undefined {
  return Object.hasOwn(ERROR_REGISTRY, code) ? ERROR_REGISTRY[code as RegisteredCode] : undefined
}

/**
 * The HTTP status a response carrying `code` must have.
 *
 * @example
 * ```ts
 * httpStatusOf(-32007) // 503
 * httpStatusOf(4001)   // 400 (application code)
 * ```
 */
export function httpStatusOf (code: number): number {
  return errorInfo(code)?.httpStatus ?? APPLICATION_ERROR_HTTP_STATUS
}
