import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startChild, type Child } from '../support/child-process.js'

/** The isolation modes the fuzzer runs the server in. */
export type FuzzMode = 'inline' | 'worker'

const SCRIPT = fileURLToPath(new URL('./fuzz-server.ts', import.meta.url))
const STDERR_TAIL = 8000

/**
 * The fuzz server as a child process: its URL, whether it is still alive, its output (for a crash's stack), and a
 * restart that gives a fresh process after a crash.
 *
 * @example
 * ```ts
 * const server = await FuzzServer.start('worker')
 * if (!server.alive) await server.restart()
 * ```
 */
export class FuzzServer {
  readonly mode: FuzzMode
  readonly tmpDir: string
  #child!: Child
  #url = ''
  #alive = false
  #exit: number | string | undefined
  /** Processes started so far (1 + restarts). */
  starts = 0

  private constructor (mode: FuzzMode, tmpDir: string) {
    this.mode = mode
    this.tmpDir = tmpDir
  }

  static async start (mode: FuzzMode): Promise<FuzzServer> {
    const server = new FuzzServer(mode, await mkdtemp(join(tmpdir(), `formcall-fuzz-${mode}-`)))
    await server.#spawn()
    return server
  }

  get url (): string { return this.#url }
  get alive (): boolean { return this.#alive }
  /** The exit code or signal of the last process, once it exited. */
  get exit (): number | string | undefined { return this.#exit }
  /** The end of the process's stdout and stderr. */
  outputTail (): string { return this.#child.output().slice(-STDERR_TAIL) }

  /** Resolves true once the process has exited, false if it is still running after `ms`. */
  async exitedWithin (ms: number): Promise<boolean> {
    if (!this.#alive) return true
    let timer: NodeJS.Timeout | undefined
    const result = await Promise.race([
      this.#child.exited.then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
    ])
    clearTimeout(timer)
    return result
  }

  async restart (): Promise<void> {
    await this.stop()
    await this.#spawn()
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  async stop (): Promise<void> {
    if (!this.#alive) return
    this.#child.process.kill('SIGTERM')
    if (!(await this.exitedWithin(5000))) this.#child.process.kill('SIGKILL')
    await this.#child.exited
  }

  /** Spool files left in the server's tmpDir. */
  async leftovers (): Promise<string[]> {
    return await readdir(this.tmpDir)
  }

  async dispose (): Promise<void> {
    await this.stop()
    await rm(this.tmpDir, { recursive: true, force: true })
    await rm(`${this.tmpDir}.uploads`, { recursive: true, force: true })
  }

  async #spawn (): Promise<void> {
    const child = startChild(process.execPath, ['--import', 'tsx', SCRIPT, this.mode, this.tmpDir])
    this.#child = child
    this.#exit = undefined
    this.#alive = true
    this.starts++
    void child.exited.then((exit) => {
      if (this.#child === child) {
        this.#alive = false
        this.#exit = exit
      }
    })
    const [line] = await child.line(/^\{"url".*\}$/)
    this.#url = (JSON.parse(line) as { url: string }).url
  }
}
