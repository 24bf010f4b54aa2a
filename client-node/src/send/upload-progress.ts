import type { UploadProgress } from '../types.js'

/**
 * Turns "this many bytes were flushed" into `onUploadProgress` events, and makes sure the last event of a complete
 * upload has `loaded === total`, also when the total was unknown while sending.
 *
 * @example
 * ```ts
 * const progress = new UploadProgressReporter(10, (p) => console.log(p), fail)
 * progress.add(4)    // { loaded: 4, total: 10 }
 * progress.add(6)    // { loaded: 10, total: 10 }
 * progress.complete() // nothing more: the last event already had loaded === total
 * ```
 */
export class UploadProgressReporter {
  readonly #total: number | null
  readonly #listener: ((progress: UploadProgress) => void) | undefined
  readonly #onListenerError: (error: unknown) => void
  #loaded = 0
  #lastWasFinal = false

  /**
   * @param total the body's size, or `null` when unknown
   * @param listener the caller's `onUploadProgress`, if any
   * @param onListenerError what to do when the listener throws (fail the call: a silent catch would hide the bug)
   */
  constructor (total: number | null, listener: ((progress: UploadProgress) => void) | undefined, onListenerError: (error: unknown) => void) {
    this.#total = total
    this.#listener = listener
    this.#onListenerError = onListenerError
  }

  /** Reports `bytes` more flushed to the socket. */
  add (bytes: number): void {
    this.#loaded += bytes
    this.#emit({ loaded: this.#loaded, total: this.#total })
  }

  /** Reports that the whole body was written. */
  complete (): void {
    if (!this.#lastWasFinal) this.#emit({ loaded: this.#loaded, total: this.#loaded })
  }

  #emit (progress: UploadProgress): void {
    this.#lastWasFinal = progress.loaded === progress.total
    if (this.#listener === undefined) return
    try {
      this.#listener(progress)
    } catch (err) {
      this.#onListenerError(err)
    }
  }
}
