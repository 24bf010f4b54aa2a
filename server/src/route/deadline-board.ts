/** A deadline on a {@link DeadlineBoard}: expires once, unless cancelled first. */
export interface Deadline {
  /** The deadline no longer matters (what it bounded is done): it will not expire. Idempotent. */
  cancel (): void
}

const NEVER: Deadline = { cancel () {} }

/**
 * Deadlines of one duration for many requests, all kept by one timer. Every small call is bounded in time (its body,
 * its `json` part, its upload's pace), and a Node timer per call, set and cleared, was a measurable share of a small
 * call's cost: an 8–14 % higher rate for JSON calls without their body timer. Here a call's deadline is an entry in
 * an insertion-ordered set, which, the duration being one, is also the order the entries expire in: the board's timer
 * ticks every tenth of the duration (10 ms at least, 1 s at most) and expires the entries from the front until one is
 * not due. A deadline expires up to one tick late, never early. The timer runs only while entries wait, and does not
 * keep the process alive.
 *
 * A duration of 0 turns the board off: its deadlines never expire.
 *
 * @example
 * ```ts
 * const board = new DeadlineBoard(30_000)
 * const deadline = board.add(() => body.destroy(new Error('too slow')))
 * body.on('close', () => deadline.cancel())
 * ```
 */
export class DeadlineBoard {
  /** Milliseconds from {@link add} to expiry; 0 = off. */
  readonly duration: number
  readonly #tick: number
  readonly #waiting = new Set<BoardEntry>()
  #timer: NodeJS.Timeout | undefined

  constructor (duration: number) {
    this.duration = duration
    this.#tick = Math.min(1000, Math.max(10, Math.ceil(duration / 10)))
  }

  /** Calls `onExpire` once the duration has passed from now (up to a tick later), unless cancelled first. */
  add (onExpire: () => void): Deadline {
    if (this.duration <= 0) return NEVER
    const entry = new BoardEntry(this.#waiting, performance.now() + this.duration, onExpire)
    this.#waiting.add(entry)
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#tick)
      this.#timer.unref()
    }
    return entry
  }

  /** Drops every waiting deadline and stops the timer (the server closed). */
  clear (): void {
    this.#waiting.clear()
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  #sweep (): void {
    const now = performance.now()
    // A set iterates in insertion order and skips what is deleted meanwhile; an entry added by an expiry (a watchdog
    // measuring its next window) comes last and is not due yet.
    for (const entry of this.#waiting) {
      if (entry.at > now) break
      this.#waiting.delete(entry)
      try {
        entry.onExpire()
      } catch (err) {
        // The callbacks are formcall's own and guarded; one that throws anyway must not stop the others' expiry, nor
        // end the process from a timer.
        process.emitWarning(err instanceof Error ? err : new Error(String(err)), 'FormcallDeadlineWarning')
      }
    }
    if (this.#waiting.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}

class BoardEntry implements Deadline {
  readonly #waiting: Set<BoardEntry>
  readonly at: number
  readonly onExpire: () => void

  constructor (waiting: Set<BoardEntry>, at: number, onExpire: () => void) {
    this.#waiting = waiting
    this.at = at
    this.onExpire = onExpire
  }

  cancel (): void { this.#waiting.delete(this) }
}

/** The boards a server's calls are timed on, one per duration. */
export interface CallClocks {
  /** `bodyTimeout`: a JSON or urlencoded body, a multipart call's `json` part. */
  readonly body: DeadlineBoard
  /** `idleUploadTimeout`: each window of an upload's pace (see UploadWatchdog). */
  readonly uploadWindow: DeadlineBoard
}
