import { randomUUID } from 'node:crypto'
import { BroadcastChannel } from 'node:worker_threads'
import type { PoolEvent } from './pool-methods.js'

/**
 * The test's end of the side channel pool-methods.ts reports on: a BroadcastChannel, which reaches every worker
 * thread of this process (the server under test runs here).
 *
 * @example
 * ```ts
 * const channel = new PoolChannel()
 * const call = postJson(url, { method: 'hold', params: [channel.name, 'a'] })
 * await channel.next((m) => m.event === 'started')
 * channel.post({ event: 'release', id: 'a' })
 * ```
 */
export class PoolChannel {
  readonly name = `formcall-pool-test-${randomUUID()}`
  readonly #port = new BroadcastChannel(this.name)
  readonly #heard: PoolEvent[] = []
  readonly #waiters = new Set<{ matches: (event: PoolEvent) => boolean, resolve: (event: PoolEvent) => void }>()

  constructor () {
    this.#port.onmessage = (message) => {
      const event = (message as { data: unknown }).data as PoolEvent
      if (typeof event !== 'object' || event === null || typeof event.event !== 'string') return
      this.#heard.push(event)
      for (const waiter of this.#waiters) {
        if (waiter.matches(event)) {
          this.#waiters.delete(waiter)
          waiter.resolve(event)
        }
      }
    }
  }

  /** Every event heard so far. */
  get heard (): readonly PoolEvent[] { return this.#heard }

  /**
   * The first event, heard already or still to come, that `matches`; rejects after `timeoutMs` so a lost message
   * fails the test with a reason rather than hanging it.
   */
  async next (matches: (event: PoolEvent) => boolean, timeoutMs = 20_000): Promise<PoolEvent> {
    const already = this.#heard.find(matches)
    if (already !== undefined) return already
    return await new Promise<PoolEvent>((resolve, reject) => {
      const waiter = {
        matches,
        resolve: (event: PoolEvent) => {
          clearTimeout(timer)
          resolve(event)
        }
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`no matching event on the side channel within ${timeoutMs} ms; heard: ${JSON.stringify(this.#heard)}`))
      }, timeoutMs)
      this.#waiters.add(waiter)
    })
  }

  /** Sends a message to every method listening on this channel. */
  post (message: Record<string, unknown>): void {
    this.#port.postMessage(message)
  }

  close (): void {
    this.#port.close()
  }
}
