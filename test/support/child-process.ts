import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/** The workspace root (where `tsx` and the `formcall` script resolve). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * How the tests start the `formcall` command from the sources: `node …CLI_FROM_SOURCE serve …`. The published
 * package's `bin/formcall.js` runs the compiled CLI instead; the packaging test covers that one.
 */
export const CLI_FROM_SOURCE = ['--import', 'tsx', 'server/src/cli.ts'] as const

/** A child process whose output the test reads line by line. */
export interface Child {
  readonly process: ChildProcess
  /** Everything written to stdout and stderr so far. */
  output (): string
  /** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
  line (pattern: RegExp): Promise<RegExpMatchArray>
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>
  /** Sends SIGTERM (again) and waits for the exit. */
  stop (): Promise<number | string>
}

/**
 * Spawns `command args` in the workspace root.
 *
 * @example
 * ```ts
 * const child = startChild(process.execPath, [...CLI_FROM_SOURCE, 'serve', path, '--port', '0'])
 * const [, url] = await child.line(/listening on (\S+)/)
 * ```
 */
export function startChild (command: string, args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv, detached?: boolean } = {}): Child {
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so the test can stop a wrapper (npx, pnpm) and everything it started at once.
    detached: options.detached ?? false
  })
  let stdout = ''
  let all = ''
  const waiters: Array<() => void> = []
  const wake = (): void => { for (const waiter of waiters.splice(0)) waiter() }
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); all += chunk.toString(); wake() })
  child.stderr?.on('data', (chunk: Buffer) => { all += chunk.toString(); wake() })
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => { resolve(code ?? signal ?? 'unknown'); wake() })
  })
  let hasExited = false
  void exited.then(() => { hasExited = true })
  return {
    process: child,
    output: () => all,
    line: async (pattern) => {
      for (;;) {
        for (const text of stdout.split('\n')) {
          const match = pattern.exec(text)
          if (match !== null) return match
        }
        if (hasExited) throw new Error(`the process exited without printing ${pattern}; its output:\n${all}`)
        await new Promise<void>((resolve) => waiters.push(resolve))
      }
    },
    exited,
    stop: async () => {
      if (!hasExited) {
        // A detached child leads its own process group: stopping it stops what it started too (npx → the server),
        // whose open pipes would otherwise keep the test's process alive.
        if (options.detached === true && child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGTERM')
          } catch {}
        } else child.kill('SIGTERM')
      }
      return await exited
    }
  }
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export async function rssOf (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (match === null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(match[1]) * 1024
}

/** Runs `action` while sampling the resident memory of process `pid`; resolves with the highest sample and its result. */
export async function peakRssDuring<T> (pid: number, action: () => Promise<T>, everyMs = 20): Promise<{ peak: number, result: T }> {
  let peak = await rssOf(pid)
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssOf(pid))
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  })()
  try {
    const result = await action()
    return { peak, result }
  } finally {
    sampling = false
    await sampler
  }
}
