import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `condition` until it holds. The deadline is a hang guard for things that happen asynchronously after a
 * response (temp files removed, a process exiting), not a performance expectation.
 *
 * @example
 * ```ts
 * await waitFor(async () => (await server.tmpFiles()).length === 0, 'the spool directory to be empty')
 * ```
 */
export async function waitFor (condition: () => boolean | Promise<boolean>, what: string, deadlineMs = 10_000): Promise<void> {
  const start = Date.now()
  for (;;) {
    if (await condition()) return
    if (Date.now() - start > deadlineMs) throw new Error(`gave up waiting for ${what}`)
    await sleep(10)
  }
}
