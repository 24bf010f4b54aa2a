import { execFile } from 'node:child_process'

/** The curl binary the tests drive. */
export const CURL = '/usr/bin/curl'

/** What a curl run printed and how it exited. */
export interface CurlResult {
  stdout: string
  stderr: string
  code: number
}

/**
 * Runs curl with `args` (after `-sS`: quiet, but errors shown) and resolves however it exits.
 *
 * @example
 * ```ts
 * const { stdout } = await curl(['-F', `json=${JSON.stringify(call)}`, '-F', `f=@${path}`, url])
 * ```
 */
export async function curl (args: string[], options: { cwd?: string } = {}): Promise<CurlResult> {
  return await new Promise((resolve, reject) => {
    execFile(CURL, ['-sS', ...args], { cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(err)
        return
      }
      resolve({ stdout, stderr, code: err === null ? 0 : err.code as number })
    })
  })
}
