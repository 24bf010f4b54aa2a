import { errorInfo } from './error-codes.js'
import type { ErrorObject } from './wire.js'

const kRpcError = Symbol.for('formcall.RpcError')

/**
 * The one error class of formcall, on the server and in both clients.
 *
 * A method throws it to send its own code, message and data (krpc's "managed" exceptions); the clients reject with it
 * when the server answers with an error. `instanceof` holds across two loaded copies of the package.
 *
 * @example
 * ```ts
 * throw new RpcError(4004, 'no file with id "a1"', { id: 'a1' })
 * ```
 */
export class RpcError extends Error {
  /** The JSON-RPC error code: a registered code or an application code. */
  readonly code: number
  /** Extra JSON data sent with the error, if any. */
  declare readonly data?: unknown

  constructor (code: number, message?: string, data?: unknown, options?: { cause?: unknown }) {
    super(message ?? errorInfo(code)?.message ?? `error ${code}`, options)
    this.name = 'RpcError'
    this.code = code
    if (data !== undefined) this.data = data
  }

  /** The wire form: `{ code, message, data? }`. */
  toJSON (): ErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data }
  }

  /**
   * Rebuilds an error from its wire form.
   *
   * @example
   * ```ts
   * const err = RpcError.fromJSON(body.error)
   * ```
   */
  static fromJSON (obj: ErrorObject): RpcError {
    return new RpcError(obj.code, obj.message, obj.data)
  }

  /** True for any RpcError, from this copy of the package or another. */
  static [Symbol.hasInstance] (value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kRpcError] === true
  }

  /** The error's registered name (`'LIMIT_EXCEEDED'`), or `'APPLICATION_ERROR'`. */
  get codeName (): string {
    return errorInfo(this.code)?.name ?? 'APPLICATION_ERROR'
  }
}
Object.defineProperty(RpcError.prototype, kRpcError, { value: true })

/**
 * True when `value` is an RpcError (from any copy of the package).
 *
 * @example
 * ```ts
 * if (isRpcError(err) && err.code === ErrorCode.OVERLOADED) retryLater()
 * ```
 */
export function isRpcError (value: unknown): value is RpcError {
  return value instanceof RpcError
}
