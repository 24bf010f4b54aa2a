import { readdirSync, readlinkSync, realpathSync } from 'node:fs'

/**
 * The file descriptors this process holds open on `path` (read from /proc/self/fd, so Linux only: the test suite
 * runs there). An fd closed between listing and reading its link is skipped.
 */
export function openDescriptors (path: string): string[] {
  const target = realpathSync(path)
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === target
    } catch {
      return false
    }
  })
}
