import type { Stats } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { LocalFile } from '../file-from-path.js'

/**
 * Stats a `fileFromPath` file before it is sent, failing with a message that names it and where it is in params:
 * a missing or unreadable path (with the system's `code`), or a directory.
 *
 * @example
 * ```ts
 * const { size } = await statLocalFile(fileFromPath('./q3.pdf'), 'params[0].file')
 * ```
 */
export async function statLocalFile (file: LocalFile, where: string): Promise<Stats> {
  const stats = await stat(file.path).catch((err: NodeJS.ErrnoException) => {
    throw Object.assign(new Error(`cannot send fileFromPath("${file.path}") at ${where}: ${err.message}; ` +
      'check that the file exists and is readable', { cause: err }), { code: err.code })
  })
  if (stats.isDirectory()) {
    throw new Error(`cannot send fileFromPath("${file.path}") at ${where}: it is a directory; pass the path of a file`)
  }
  return stats
}
