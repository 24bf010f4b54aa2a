import { spawn } from 'node:child_process'

/** What a finished command printed. */
export interface CommandResult {
  readonly stdout: string
  readonly stderr: string
  /** The exit code (only ever non-zero with `allowFailure`). */
  readonly code: number | null
  /** Wall-clock milliseconds from spawn to exit. */
  readonly ms: number
}

/** Where and how long a command may run. */
export interface CommandOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  /** Milliseconds before the command and everything it started are killed and the promise rejects. */
  timeoutMs: number
  /** Kills the command and everything it started when aborted (a test's clean-up of a command left running). */
  signal?: AbortSignal
  /** Resolve with the code instead of rejecting when the command exits non-zero (a test of a failing command). */
  allowFailure?: boolean
}

/**
 * Runs `command args` to completion and resolves with its output; rejects, with the output in the message, when it
 * exits with a non-zero code or outlives `timeoutMs`.
 *
 * The command gets a process group of its own, so a timeout also kills what it started (npx → pnpm → tsc).
 *
 * @example
 * ```ts
 * const { stdout } = await runCommand('npm', ['--version'], { cwd: dir, timeoutMs: 10_000 })
 * ```
 */
export async function runCommand (command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const started = performance.now()
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    killGroup(child.pid)
  }, options.timeoutMs)
  const abort = (): void => { killGroup(child.pid) }
  options.signal?.addEventListener('abort', abort, { once: true })
  const outcome = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => { resolve({ code, signal }) })
  }).finally(() => {
    clearTimeout(timer)
    options.signal?.removeEventListener('abort', abort)
  })
  const ms = performance.now() - started
  const shown = `${command} ${args.join(' ')} (in ${options.cwd})`
  if (options.signal?.aborted === true) throw new Error(`${shown} was stopped: ${String(options.signal.reason)}`)
  if (timedOut) throw new Error(`${shown} did not finish within ${options.timeoutMs} ms; its output:\n${stdout}\n${stderr}`)
  if (outcome.code !== 0 && options.allowFailure !== true) {
    throw new Error(`${shown} exited with ${outcome.code ?? outcome.signal}; its output:\n${stdout}\n${stderr}`)
  }
  return { stdout, stderr, code: outcome.code, ms }
}

/** Kills a process group started by `runCommand`, ignoring one that has already gone. */
function killGroup (pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {}
}
