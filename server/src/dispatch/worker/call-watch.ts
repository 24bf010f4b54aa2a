import { ErrorCode, RpcError } from '@formcall/spec'

/** The time limits of a worker call. */
export interface CallLimits {
  /** Milliseconds the method may run once it has started and its upload is complete; 0: no limit. */
  readonly callTimeout: number
  /** Milliseconds an aborted method gets to return before it is stopped. */
  readonly abortGrace: number
}

/** How often a call still waiting for a worker is looked at again, at most. */
const QUEUED_RECHECK_MS = 1000

/**
 * The timers of one worker call, and when they stop it. The method's time starts once it runs on a worker and has its
 * whole upload: waiting in the pool's queue (behind busy workers, or for a replaced worker to boot) or for the
 * client's bytes is not the method hanging. When the call started is read from the pool's StartBoard (`startedAt`)
 * when the timer fires, not told by a message: one timer per call, re-armed for what is left. An aborted call gets a
 * grace period to return on its own.
 */
export class CallWatch {
  readonly #limits: CallLimits
  readonly #startedAt: () => number | undefined
  readonly #stop: (reason: RpcError) => void
  #uploadAt: number | undefined
  #timeout: NodeJS.Timeout | undefined
  #grace: NodeJS.Timeout | undefined
  #over = false

  constructor (limits: CallLimits, startedAt: () => number | undefined, stop: (reason: RpcError) => void) {
    this.#limits = limits
    this.#startedAt = startedAt
    this.#stop = stop
  }

  /** The request's body is complete: the method's time can start. */
  uploadComplete (): void {
    if (this.#over || this.#limits.callTimeout <= 0 || this.#uploadAt !== undefined) return
    this.#uploadAt = Date.now()
    this.#arm(this.#limits.callTimeout)
  }

  /** The call was aborted: the method has its grace period, then it is stopped with `reason`. */
  aborted (reason: RpcError): void {
    if (this.#over || this.#grace !== undefined) return
    this.#grace = setTimeout(() => this.#stop(reason), this.#limits.abortGrace)
  }

  /** The call's task ended: no timer may fire any more. */
  end (): void {
    this.#over = true
    clearTimeout(this.#timeout)
    clearTimeout(this.#grace)
  }

  #arm (ms: number): void {
    this.#timeout = setTimeout(() => this.#check(), ms)
  }

  #check (): void {
    if (this.#over) return
    const startedAt = this.#startedAt()
    const ms = this.#limits.callTimeout
    if (startedAt === undefined) {
      this.#arm(Math.min(ms, QUEUED_RECHECK_MS))
      return
    }
    const left = Math.max(startedAt, this.#uploadAt as number) + ms - Date.now()
    if (left > 0) {
      this.#arm(left)
      return
    }
    this.#stop(new RpcError(ErrorCode.CALL_TIMEOUT,
      `the method ran longer than ${ms} ms after its upload completed; its worker was stopped`))
  }
}
