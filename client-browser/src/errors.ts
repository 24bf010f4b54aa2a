const kTransportError = Symbol.for('formcall.TransportError')

/**
 * Why a call got no usable answer:
 * - `network`: no HTTP answer at all (offline, connection reset, a truncated download, or a cross-origin call the
 *   server's CORS does not allow: browsers report all of these alike);
 * - `timeout`: the `timeout` option ran out;
 * - `aborted`: the caller's `signal` aborted;
 * - `protocol`: an HTTP answer came, but not a formcall one (an HTML error page from a proxy, a wrong id).
 *
 * @example
 * ```ts
 * const retryable = (kind: TransportErrorKind) => kind === 'network' || kind === 'timeout'
 * ```
 */
export type TransportErrorKind = 'network' | 'timeout' | 'aborted' | 'protocol'

/**
 * A call failed before the server could answer it with an envelope. An answer the server did give, an error
 * envelope, rejects with `RpcError` instead, so `instanceof` tells "the server said no" from "the call did not get
 * through".
 *
 * @example
 * ```ts
 * try {
 *   await api.files.store(file, { signal })
 * } catch (err) {
 *   if (err instanceof TransportError && err.kind === 'aborted') return // the user cancelled
 *   throw err
 * }
 * ```
 */
export class TransportError extends Error {
  /** What went wrong, as one of four kinds a caller can act on. */
  readonly kind: TransportErrorKind
  /** The HTTP status, when an answer arrived (`protocol` errors); absent otherwise. */
  // `declare`: a plain field would be defined as `undefined` on every error, so `'status' in err` would lie.
  declare readonly status?: number

  constructor (kind: TransportErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TransportError'
    this.kind = kind
    if (options.status !== undefined) this.status = options.status
  }

  /** True for any TransportError, also from a second copy of this package loaded on the same page. */
  static [Symbol.hasInstance] (value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kTransportError] === true
  }
}
Object.defineProperty(TransportError.prototype, kTransportError, { value: true })
