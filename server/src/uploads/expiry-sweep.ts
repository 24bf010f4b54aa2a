import type { FastifyBaseLogger } from 'fastify'
import { removeExpiredUploads } from './remove-upload.js'

/**
 * Deletes expired uploads now and then every `interval` ms, until stopped. Its timer is unref'd: a server that is
 * otherwise done does not stay up for it. Sweeps never overlap, and a failed sweep is logged, never thrown.
 *
 * @example
 * ```ts
 * const sweep = new ExpirySweep({ directory, expireAfter, interval: 3600_000, log })
 * await sweep.start()
 * // ...
 * await sweep.stop()
 * ```
 */
export class ExpirySweep {
  readonly #directory: string
  readonly #expireAfter: number
  readonly #interval: number
  readonly #log: FastifyBaseLogger
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false

  constructor (options: { directory: string, expireAfter: number, interval: number, log: FastifyBaseLogger }) {
    this.#directory = options.directory
    this.#expireAfter = options.expireAfter
    this.#interval = options.interval
    this.#log = options.log
  }

  /** Sweeps once (so a restart removes what expired while the server was down), then on the timer. */
  async start (): Promise<void> {
    await this.sweep()
    if (this.#stopped) return
    this.#timer = setInterval(() => { void this.sweep() }, this.#interval)
    this.#timer.unref()
  }

  /** One sweep; waits for one already running instead of starting a second. */
  async sweep (): Promise<void> {
    this.#running ??= removeExpiredUploads(this.#directory, this.#expireAfter).then((removed) => {
      if (removed > 0) this.#log.info({ removed }, 'formcall: expired uploads deleted')
    }, (err: unknown) => {
      this.#log.warn({ err }, 'formcall: the sweep of expired uploads failed; it runs again later')
    }).finally(() => { this.#running = undefined })
    await this.#running
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop (): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#running
  }
}
