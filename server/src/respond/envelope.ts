import { ErrorCode, JSONRPC_VERSION, RpcError, type CallId, type ErrorResponse } from '@formcall/spec'

/**
 * Turns anything thrown into the RpcError that goes on the wire. A method's own RpcError passes as it is; other
 * exceptions from the method become METHOD_RAISED with their message; anything else (a server fault) becomes
 * `fallbackCode` with a generic message. Stacks go to the client only when `expose` is set.
 */
export function toRpcError (err: unknown, options: { fromMethod: boolean, expose: boolean }): RpcError {
  if (err instanceof RpcError) return err
  const error = err instanceof Error ? err : new Error(String(err))
  const data = options.expose ? { name: error.name, stack: error.stack } : undefined
  if (options.fromMethod) {
    return new RpcError(ErrorCode.METHOD_RAISED, error.message === '' ? error.name : error.message, data)
  }
  return new RpcError(ErrorCode.UNHANDLED,
    options.expose ? `unhandled error: ${error.message}` : 'an unexpected error occurred on the server; see its log', data)
}

/** The error response envelope. */
export function errorEnvelope (id: CallId, err: RpcError): ErrorResponse {
  return { jsonrpc: JSONRPC_VERSION, id, error: err.toJSON() }
}

/**
 * The success envelope as JSON text. A result JSON cannot represent (a cycle, a BigInt) is RESULT_NOT_SERIALIZABLE;
 * `undefined` is sent as `null`.
 */
export function serializeSuccess (id: CallId, result: unknown): string {
  try {
    return JSON.stringify({ jsonrpc: JSONRPC_VERSION, id, result: result === undefined ? null : result })
  } catch (err) {
    throw new RpcError(ErrorCode.RESULT_NOT_SERIALIZABLE,
      `the method's result cannot be sent as JSON (${(err as Error).message}); return plain data or a download()`)
  }
}
