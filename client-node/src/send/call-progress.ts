import type { UploadProgress } from '../types.js'

/**
 * The upload progress of a call with resumable files, as one sequence of events: first the files' bytes as their
 * tus uploads send them, then the request body's, counted after the files.
 *
 * A file's `loaded` is the highest offset sent so far: after a dropped connection tus-js-client resumes from the
 * offset the server stored, which may be below what was sent, and re-sends the difference; those events are held
 * back, so `loaded` never decreases (UploadProgress's contract). `total` is the files' sizes while they upload, then
 * grows by the body's size once the body is built (it names the uploads, so it cannot be built earlier).
 *
 * @example
 * ```ts
 * const progress = new CallProgress([fileA.size, fileB.size], options.onUploadProgress, (err) => scope.fail(err))
 * progress.file(0, 1024)                    // { loaded: 1024, total: a + b }
 * sendRequest(body, sources, { ...target, onUploadProgress: progress.bodyListener() }, scope)
 * ```
 */
export class CallProgress {
  readonly #sent: number[]
  readonly #sizes: readonly number[]
  readonly #filesTotal: number
  readonly #listener: ((progress: UploadProgress) => void) | undefined
  readonly #onListenerError: (error: unknown) => void

  /**
   * @param sizes the resumable files' sizes, in upload order
   * @param listener the caller's `onUploadProgress`, if any
   * @param onListenerError what to do when the listener throws (fail the call, as for the body's progress)
   */
  constructor (sizes: readonly number[], listener: ((progress: UploadProgress) => void) | undefined, onListenerError: (error: unknown) => void) {
    this.#sizes = sizes
    this.#sent = sizes.map(() => 0)
    this.#filesTotal = sizes.reduce((sum, size) => sum + size, 0)
    this.#listener = listener
    this.#onListenerError = onListenerError
  }

  /** The sum of the resumable files' sizes. */
  get filesTotal (): number {
    return this.#filesTotal
  }

  /** File `index` has been sent up to `offset`; an offset at or below its high mark reports nothing. */
  file (index: number, offset: number): void {
    const size = this.#sizes[index] ?? 0
    const sent = Math.min(offset, size)
    if (!(sent > (this.#sent[index] ?? 0))) return
    this.#sent[index] = sent
    if (this.#listener === undefined) return
    const loaded = this.#sent.reduce((sum, n) => sum + n, 0)
    try {
      this.#listener({ loaded, total: this.#filesTotal })
    } catch (err) {
      this.#onListenerError(err)
    }
  }

  /** The `onUploadProgress` for the request body: its events, counted after the files. */
  bodyListener (): ((progress: UploadProgress) => void) | undefined {
    const listener = this.#listener
    if (listener === undefined) return undefined
    const before = this.#filesTotal
    return ({ loaded, total }) => listener({ loaded: before + loaded, total: total === null ? null : before + total })
  }
}
