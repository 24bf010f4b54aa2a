import { ErrorCode, RpcError } from '@formcall/spec'
import type { Deadline, DeadlineBoard } from './deadline-board.js'

/**
 * Fails an upload that stalls or trickles: in each window (the duration of `windows`, a board shared by every upload;
 * 0 turns the watchdog off) the client must send at least `minRate` bytes per second on average (and at least one
 * byte). A client trickling a few bytes per window would otherwise hold its socket, and in worker mode an upload lane,
 * for as long as it likes.
 *
 * Time the server itself makes the upload wait is not counted: while the call waits for a worker (an upload lane or
 * the pool's queue) its socket is not read, so {@link pause} stops the clock and {@link resume} starts a fresh window.
 * Counting bytes per chunk costs an addition; the window's deadline is set once per window, not per chunk.
 */
export class UploadWatchdog {
  readonly #windows: DeadlineBoard
  readonly #minRate: number
  readonly #onStall: (error: RpcError) => void
  #deadline: Deadline | undefined
  #bytes = 0
  #paused = 0
  #stopped = false

  constructor (windows: DeadlineBoard, minRate: number, onStall: (error: RpcError) => void) {
    this.#windows = windows
    this.#minRate = minRate
    this.#onStall = onStall
    this.#arm()
  }

  /** Counts bytes that arrived. */
  count (bytes: number): void { this.#bytes += bytes }

  /** The server holds the upload (nested calls allowed): stop measuring the client. */
  pause (): void {
    this.#paused++
    this.#deadline?.cancel()
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
    this.#deadline?.cancel()
  }

  #arm (): void {
    if (this.#stopped || this.#paused > 0) return
    this.#deadline = this.#windows.add(() => this.#check())
  }

  #check (): void {
    const window = this.#windows.duration
    const needed = Math.max(1, Math.ceil(this.#minRate * window / 1000))
    if (this.#bytes < needed) {
      this.stop()
      this.#onStall(new RpcError(ErrorCode.UPLOAD_STALLED, this.#bytes === 0
        ? `no upload bytes arrived for ${window} ms (the client stalled, or the method stopped reading its files); send the request again`
        : `the upload sent ${this.#bytes} bytes in ${window} ms, below the minimum of ${this.#minRate} bytes/s (minUploadRate); send it again over a faster link`))
      return
    }
    this.#bytes = 0
    this.#arm()
  }
}
