const kTransportError = Symbol.for('formcall.TransportError')

/**
 * How a call failed to get a formcall answer.
 *
 * - `network`: the server could not be reached, or the connection broke before the answer was complete.
 * - `timeout`: the call's `timeout` elapsed (or its signal aborted with a `TimeoutError`).
 * - `aborted`: the call's `signal` aborted.
 * - `protocol`: something answered, but not with a formcall response (a proxy's HTML 502, a malformed envelope).
 *
 * @example
 * ```ts
 * const retryable = (kind: TransportErrorKind) => kind === 'network' || kind === 'timeout'
 * ```
 */
export type TransportErrorKind = 'network' | 'timeout' | 'aborted' | 'protocol'

/**
 * The call did not produce a formcall answer. Distinct from `RpcError`, which is the server's answer: a
 * `TransportError` means the method may or may not have run.
 *
 * `instanceof` holds across two loaded copies of this package, as for `RpcError`.
 *
 * @example
 * ```ts
 * try {
 *   await api.files.store({ file })
 * } catch (err) {
 *   if (err instanceof TransportError && err.kind === 'network') scheduleRetry()
 *   else throw err
 * }
 * ```
 */
export class TransportError extends Error {
  /** What went wrong; see {@link TransportErrorKind}. */
  readonly kind: TransportErrorKind
  /** The HTTP status, when a response arrived but was not a formcall answer. */
  declare readonly status?: number

  constructor (kind: TransportErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TransportError'
    this.kind = kind
    if (options.status !== undefined) this.status = options.status
  }

  /** True for any TransportError, from this copy of the package or another. */
  static [Symbol.hasInstance] (value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kTransportError] === true
  }
}
Object.defineProperty(TransportError.prototype, kTransportError, { value: true })

/**
 * True when `value` is a TransportError (from any copy of the package).
 *
 * @example
 * ```ts
 * if (isTransportError(err) && err.kind === 'timeout') console.warn('the server is slow')
 * ```
 */
export function isTransportError (value: unknown): value is TransportError {
  return value instanceof TransportError
}
