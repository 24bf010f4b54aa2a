import { ErrorCode, RpcError } from '@formcall/spec'
import { asDownload, type Download } from './download.js'

/**
 * How a call ended, as both executors hand it to the HTTP side: classified once, where the method returned.
 * - `json`: the result as JSON text (serialized in the thread that ran the method);
 * - `download`: a file to stream back (PROTOCOL.md section 7);
 * - `error`: the RpcError to send.
 */
export type Outcome =
  | { readonly kind: 'json', readonly json: string }
  | { readonly kind: 'download', readonly download: Download }
  | { readonly kind: 'error', readonly error: RpcError }

/**
 * The outcome of a value a method returned: a download if it is a file (a Download, a Node readable, bytes, a Blob),
 * else its JSON text; a value JSON cannot represent is RESULT_NOT_SERIALIZABLE.
 */
export function outcomeOfResult (value: unknown): Outcome {
  const download = asDownload(value)
  if (download !== undefined) return { kind: 'download', download }
  try {
    return { kind: 'json', json: serializeResult(value) }
  } catch (err) {
    return { kind: 'error', error: err as RpcError }
  }
}

/**
 * Lets go of an outcome nobody will send (a notification's, a download inside a batch): a download's stream is opened
 * and destroyed, so the file it read is closed and a worker sending it is released.
 */
export function discardOutcome (outcome: Outcome): void {
  if (outcome.kind !== 'download') return
  outcome.download.open().then((body) => body.destroy(), () => {})
}

/**
 * The JSON text of a method's result. A value JSON cannot represent (a cycle, a BigInt, a function) is
 * RESULT_NOT_SERIALIZABLE; `undefined` is sent as `null`.
 */
function serializeResult (result: unknown): string {
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

/**
 * Turns anything thrown into the RpcError that goes on the wire. A method's own RpcError passes as it is; other
 * exceptions from the method become METHOD_RAISED with their message; anything else (a server fault) becomes
 * UNHANDLED with a generic message. Stacks go to the client only when `expose` is set.
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
