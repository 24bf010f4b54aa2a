import { ErrorCode, RpcError } from '@formcall/spec'

/** How an upload must keep moving. */
export interface UploadPace {
  /** Milliseconds per measuring window; 0 turns the watchdog off. */
  readonly window: number
  /** Bytes per second the client must average over each window (at least one byte per window). */
  readonly minRate: number
}

/**
 * Fails an upload that stalls or trickles: in each window of `pace.window` ms the client must send at least
 * `pace.minRate` bytes per second on average (and at least one byte). A client trickling a few bytes per window would
 * otherwise hold its socket, and in worker mode an upload lane, for as long as it likes.
 *
 * Time the server itself makes the upload wait is not counted: while the call waits for a worker (an upload lane or
 * the pool's queue) its socket is not read, so {@link pause} stops the clock and {@link resume} starts a fresh window.
 * Counting bytes per chunk costs an addition; the timer is re-armed once per window, not per chunk.
 */
export class UploadWatchdog {
  readonly #pace: UploadPace
  readonly #onStall: (error: RpcError) => void
  #timer: NodeJS.Timeout | undefined
  #bytes = 0
  #paused = 0
  #stopped = false

  constructor (pace: UploadPace, onStall: (error: RpcError) => void) {
    this.#pace = pace
    this.#onStall = onStall
    this.#arm()
  }

  /** Counts bytes that arrived. */
  count (bytes: number): void { this.#bytes += bytes }

  /** The server holds the upload (nested calls allowed): stop measuring the client. */
  pause (): void {
    this.#paused++
    clearTimeout(this.#timer)
  }

  /** The server reads again: measure from a fresh window. */
  resume (): void {
    if (this.#paused === 0 || --this.#paused > 0) return
    this.#bytes = 0
    this.#arm()
  }

  /** The upload ended, one way or another. */
  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #arm (): void {
    if (this.#stopped || this.#pace.window <= 0 || this.#paused > 0) return
    this.#timer = setTimeout(() => this.#check(), this.#pace.window)
  }

  #check (): void {
    const seconds = this.#pace.window / 1000
    const needed = Math.max(1, Math.ceil(this.#pace.minRate * seconds))
    if (this.#bytes < needed) {
      this.stop()
      this.#onStall(new RpcError(ErrorCode.UPLOAD_STALLED, this.#bytes === 0
        ? `no upload bytes arrived for ${this.#pace.window} ms (the client stalled, or the method stopped reading its files); send the request again`
        : `the upload sent ${this.#bytes} bytes in ${this.#pace.window} ms, below the minimum of ${this.#pace.minRate} bytes/s (minUploadRate); send it again over a faster link`))
      return
    }
    this.#bytes = 0
    this.#arm()
  }
}
