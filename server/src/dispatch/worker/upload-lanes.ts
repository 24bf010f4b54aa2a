import { ErrorCode, RpcError } from '@formcall/spec'

/**
 * Bounds how many calls with uploads hold workers at once, so slow or stalled uploads can never take every worker:
 * the rest stay free for calls without files. Calls past the bound wait (their uploads are not read meanwhile, which
 * costs a paused socket, not a worker); past `maxWaiting` they are refused as OVERLOADED at once.
 */
export class UploadLanes {
  readonly #capacity: number
  readonly #maxWaiting: number
  #active = 0
  readonly #waiting: Array<() => void> = []

  constructor (capacity: number, maxWaiting: number) {
    this.#capacity = Math.max(1, capacity)
    this.#maxWaiting = maxWaiting
  }

  /** Waits for a lane; resolves with its release function. */
  async acquire (signal: AbortSignal): Promise<() => void> {
    if (this.#active < this.#capacity) {
      this.#active++
      return this.#releaser()
    }
    if (this.#waiting.length >= this.#maxWaiting) {
      throw new RpcError(ErrorCode.OVERLOADED,
        `all ${this.#capacity} upload lanes are busy and ${this.#waiting.length} uploads wait; retry later`)
    }
    signal.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(grant)
        if (index !== -1) this.#waiting.splice(index, 1)
        reject(signal.reason)
      }
      this.#waiting.push(grant)
      signal.addEventListener('abort', onAbort, { once: true })
    })
    return this.#releaser()
  }

  #releaser (): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#waiting.shift()
      // The lane passes straight to the next waiter, so #active stays counted.
      if (next !== undefined) next()
      else this.#active--
    }
  }
}
