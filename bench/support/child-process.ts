import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ChildMessage } from './messages.js'

const benchDir = fileURLToPath(new URL('..', import.meta.url))

/**
 * A bench child process (a server or a load client) with an IPC channel. It runs with the orchestrator's own
 * `execArgv` (`--import tsx`), so every child pays the same loader cost and its RSS is its own.
 *
 * @example
 * ```ts
 * const server = BenchChild.start('servers/resume.ts')
 * const { port } = await server.next('ready', 15_000)
 * ```
 */
export class BenchChild {
  readonly process: ChildProcess
  readonly pid: number
  readonly #inbox: ChildMessage[] = []
  readonly #waiters: Array<() => void> = []
  #exit: string | undefined

  private constructor (child: ChildProcess) {
    if (child.pid === undefined) throw new Error('the bench child process did not start')
    this.process = child
    this.pid = child.pid
    child.on('message', (message: ChildMessage) => {
      this.#inbox.push(message)
      this.#wake()
    })
    child.on('exit', (code, signal) => {
      this.#exit = signal === null ? `exited with code ${String(code)}` : `was killed by ${signal}`
      this.#wake()
    })
  }

  /** Starts `entry` (a path relative to the bench folder) with `args`. */
  static start (entry: string, args: string[] = []): BenchChild {
    const child = fork(`${benchDir}${entry}`, args, {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    return new BenchChild(child)
  }

  /** Whether the process is still running. */
  get running (): boolean {
    return this.#exit === undefined
  }

  /** Resolves with the next message of `type`; rejects when the child exits first or `timeoutMs` passes. */
  async next<T extends ChildMessage['type']> (type: T | 'unavailable', timeoutMs: number):
  Promise<Extract<ChildMessage, { type: T | 'unavailable' }>> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.#inbox.findIndex((m) => m.type === type || m.type === 'unavailable')
      if (index !== -1) return this.#inbox.splice(index, 1)[0] as Extract<ChildMessage, { type: T | 'unavailable' }>
      if (this.#exit !== undefined) throw new Error(`the child process ${this.#exit} before sending "${type}"`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no "${type}" message from the child process within ${Math.round(timeoutMs / 1000)} s`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Sends a message to the child. */
  send (message: object): void {
    this.process.send(message)
  }

  /** Sends SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves once it exited. */
  async stop (graceMs = 5000): Promise<void> {
    if (this.#exit !== undefined) return
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()))
    this.process.kill('SIGTERM')
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }

  #wake (): void {
    for (const wake of this.#waiters.splice(0)) wake()
  }
}
