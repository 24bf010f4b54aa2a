import type { RpcError } from '@formcall/spec'

/**
 * The abort state of one call (client gone, upload failed, shutdown): an AbortSignal made only when something asks
 * for it. Most calls are never aborted and most methods never look at their signal; an AbortController per call is a
 * measurable share of a small call's cost.
 */
export class CallAbort {
  #controller: AbortController | undefined
  #reason: RpcError | undefined
  #listeners: Array<(reason: RpcError) => void> | undefined

  /** Whether the call was aborted. */
  get aborted (): boolean { return this.#reason !== undefined }
  /** Why, once it was. */
  get reason (): RpcError | undefined { return this.#reason }

  /** A signal that fires (or has fired) with the reason. */
  get signal (): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#reason !== undefined) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /**
   * Calls `listener` once the call is aborted (at once if it is), without making the signal; returns the way to stop
   * listening.
   */
  onAbort (listener: (reason: RpcError) => void): () => void {
    if (this.#reason !== undefined) {
      listener(this.#reason)
      return () => {}
    }
    const listeners = (this.#listeners ??= [])
    listeners.push(listener)
    return () => {
      const at = listeners.indexOf(listener)
      if (at >= 0) listeners.splice(at, 1)
    }
  }

  /** Aborts the call; only the first reason counts. */
  abort (reason: RpcError): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.#controller?.abort(reason)
    for (const listener of this.#listeners?.splice(0) ?? []) listener(reason)
  }
}
