/**
 * Where workers note, without a message, that a call started and on which thread: one slot per call in flight, in a
 * SharedArrayBuffer every worker holds. The main thread reads a slot only when it needs to know (a call's time is up,
 * it must be stopped, its task failed before it could start): a message per call to say "started" would cost a
 * wake-up of the main thread on every call, a large share of a small call's cost on a busy machine.
 *
 * A slot holds the thread id (0 until the call started) and the start time (ms since the epoch). The worker writes
 * the time first and the thread id last, atomically, so a reader that sees the thread id sees the time too.
 */
export class StartBoard {
  /** The memory, shared with the workers through their startup data. */
  readonly buffer: SharedArrayBuffer
  readonly #threads: Int32Array
  readonly #times: Float64Array
  readonly #free: number[]

  /** A board of `slots` slots (`buffer` given: a worker's view of the main thread's board). */
  constructor (slots: number, buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(slots * 12)
    this.#times = new Float64Array(this.buffer, 0, slots)
    this.#threads = new Int32Array(this.buffer, slots * 8, slots)
    this.#free = buffer === undefined ? Array.from({ length: slots }, (_, i) => slots - 1 - i) : []
  }

  /** Main thread: a free slot for a call about to be handed to the pool, or undefined when none is free. */
  take (): number | undefined {
    const slot = this.#free.pop()
    if (slot !== undefined) Atomics.store(this.#threads, slot, 0)
    return slot
  }

  /** Main thread: the call's task is over; its slot may serve another call. */
  release (slot: number): void {
    this.#free.push(slot)
  }

  /** Worker: the call in `slot` starts now on `threadId`. */
  markStarted (slot: number, threadId: number): void {
    this.#times[slot] = Date.now()
    Atomics.store(this.#threads, slot, threadId)
  }

  /** Main thread: where and when the call in `slot` started, or undefined while it has not. */
  startOf (slot: number): { threadId: number, at: number } | undefined {
    const threadId = Atomics.load(this.#threads, slot)
    return threadId === 0 ? undefined : { threadId, at: this.#times[slot] as number }
  }
}
