import { TransportError } from '../errors.js'

/** What bounds one call. */
export interface ScopeOptions {
  /** Names the call in error messages: `call "files.store" to http://localhost:8080/rpc`. */
  label: string
  /** The client's and the call's signals; any of them aborts the call. */
  signals: readonly AbortSignal[]
  /** Milliseconds the call may take; 0 or undefined for no limit. */
  timeout: number | undefined
}

/**
 * The lifetime of one call: one internal signal that aborts when any caller signal aborts or the timeout elapses,
 * with a `TransportError` as its reason. Everything the call starts (the request, file streams, the response read)
 * listens to this one signal, so there is a single way a call is cut short.
 *
 * @example
 * ```ts
 * const scope = new CallScope({ label: 'call "echo"', signals: [signal], timeout: 5_000 })
 * scope.signal.addEventListener('abort', () => request.destroy())
 * // … when the call is over:
 * scope.dispose()
 * ```
 */
export class CallScope {
  readonly #controller = new AbortController()
  readonly #label: string
  readonly #signals: readonly AbortSignal[]
  #timer: NodeJS.Timeout | undefined

  constructor ({ label, signals, timeout }: ScopeOptions) {
    this.#label = label
    this.#signals = signals
    for (const signal of signals) {
      if (signal.aborted) {
        this.#abortFrom(signal)
        return
      }
      signal.addEventListener('abort', this.#onAbort)
    }
    if (timeout !== undefined && timeout > 0) {
      this.#timer = setTimeout(() => {
        this.fail(new TransportError('timeout', `${this.#label} did not finish within ${timeout} ms (the timeout option); ` +
          'raise the timeout or pass 0 for none'))
      }, timeout)
    }
  }

  /** Aborts when the call is cut short; its `reason` is the error the call rejects with. */
  get signal (): AbortSignal {
    return this.#controller.signal
  }

  /** Throws the abort reason if the call was already cut short. */
  throwIfAborted (): void {
    if (this.signal.aborted) throw this.signal.reason
  }

  /** Cuts the call short with `error`. Only the first reason counts. */
  fail (error: unknown): void {
    if (this.signal.aborted) return
    this.#controller.abort(error)
    this.#detach()
  }

  /** Stops the timeout; caller signals still apply (a download's body outlives the timeout). */
  stopTimer (): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** The call is over: stops listening to the caller's signals and the timer. */
  dispose (): void {
    this.#detach()
  }

  readonly #onAbort = (event: Event): void => {
    this.#abortFrom(event.target as AbortSignal)
  }

  #abortFrom (signal: AbortSignal): void {
    const reason: unknown = signal.reason
    const timedOut = reason instanceof Error && reason.name === 'TimeoutError'
    this.fail(new TransportError(timedOut ? 'timeout' : 'aborted',
      `${this.#label} was ${timedOut ? 'timed out' : 'aborted'} by its signal`, { cause: reason }))
  }

  #detach (): void {
    this.stopTimer()
    for (const signal of this.#signals) signal.removeEventListener('abort', this.#onAbort)
  }
}
