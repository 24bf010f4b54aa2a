import { ErrorCode, JSONRPC_VERSION, RpcError } from '@formcall/spec'
import { RawId, type ResponseId } from '../parse/raw-id.js'

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
    const message = options.expose ? error.message : withoutServerPaths(error)
    return new RpcError(ErrorCode.METHOD_RAISED, message === '' ? error.name : message, data)
  }
  return new RpcError(ErrorCode.UNHANDLED,
    options.expose ? `unhandled error: ${error.message}` : 'an unexpected error occurred on the server; see its log', data)
}

/**
 * The message of a method's error without the server's file paths: Node's file-system errors name the path they
 * failed on (`ENOENT: no such file or directory, open '/srv/app/data/x'`), and module errors name files and URLs.
 * The code and the failed operation stay, so the client still learns what went wrong.
 */
function withoutServerPaths (error: Error): string {
  const { path, dest } = error as Error & { path?: unknown, dest?: unknown }
  let message = error.message
  for (const value of [dest, path]) {
    if (typeof value === 'string' && value !== '') {
      message = message.replaceAll(` -> '${value}'`, '').replaceAll(`'${value}'`, '').replaceAll(value, '')
    }
  }
  return message
    .replace(/file:\/\/\/?[^\s'"]+/g, '<file>')
    .replaceAll(process.cwd().length > 1 ? process.cwd() : '\0', '<cwd>')
    .trimEnd()
}

/**
 * The JSON text of a response's id: a {@link RawId} as the client wrote it (JSON.stringify cannot write a number
 * literal it is given as text), anything else as JSON.stringify writes it.
 */
export function idJson (id: ResponseId): string {
  return id instanceof RawId ? id.text : JSON.stringify(id)
}

/** The error envelope as JSON text, with the id as the client sent it. */
export function serializeError (id: ResponseId, err: RpcError): string {
  return `{"jsonrpc":"${JSONRPC_VERSION}","id":${idJson(id)},"error":${JSON.stringify(err.toJSON())}}`
}

/**
 * A result already turned into JSON text (by a worker, off the main thread), sent without parsing it again.
 */
export class SerializedResult {
  constructor (readonly json: string) {}
}

/**
 * The JSON text of a method's result. A value JSON cannot represent (a cycle, a BigInt, a function) is
 * RESULT_NOT_SERIALIZABLE; `undefined` is sent as `null`.
 */
export function serializeResult (result: unknown): string {
  if (result instanceof SerializedResult) return result.json
  // JSON.stringify gives `undefined` for these rather than throwing; they would go out as `null`.
  if (typeof result === 'function' || typeof result === 'symbol') {
    throw new RpcError(ErrorCode.RESULT_NOT_SERIALIZABLE,
      `the method returned a ${typeof result}, which cannot be sent as JSON; return plain data or a download()`)
  }
  try {
    return JSON.stringify(result) ?? 'null'
  } catch (err) {
    throw new RpcError(ErrorCode.RESULT_NOT_SERIALIZABLE,
      `the method's result cannot be sent as JSON (${(err as Error).message}); return plain data or a download()`)
  }
}

/** The success envelope as JSON text, with the id as the client sent it. */
export function serializeSuccess (id: ResponseId, result: unknown): string {
  return `{"jsonrpc":"${JSONRPC_VERSION}","id":${idJson(id)},"result":${serializeResult(result)}}`
}
