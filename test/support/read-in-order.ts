import { createHash } from 'node:crypto'
import type { UploadedFile } from '@formcall/server/methods'

/** What a method saw of one file stream it read to its end or its error. */
export interface FileSeen {
  /** Position of the file in the method's argument list. */
  index: number
  /** Bytes the stream delivered. */
  bytes: number
  /** SHA-256 (hex) of those bytes. */
  sha256: string
  /** The stream ended normally (`for await` finished without an error). */
  ended: boolean
  /** The stream's error, when it failed. */
  error: { code: unknown, message: string } | null
}

/**
 * Reads `files` one after the other in `order` (indexes into `files`), each to its end or its error, and reports what
 * each stream did; never rejects. Reading a later file first makes the server spool the earlier ones to disk.
 *
 * @example
 * ```ts
 * const seen = await readInOrder([a, b, c], [2, 0, 1])
 * seen.every((file) => file.ended || file.error !== null) // true
 * ```
 */
export async function readInOrder (files: readonly UploadedFile[], order: readonly number[]): Promise<FileSeen[]> {
  const seen: FileSeen[] = []
  for (const index of order) {
    const file = files[index] as UploadedFile
    const hash = createHash('sha256')
    let bytes = 0
    try {
      for await (const chunk of file) {
        hash.update(chunk as Buffer)
        bytes += (chunk as Buffer).length
      }
      seen.push({ index, bytes, sha256: hash.digest('hex'), ended: true, error: null })
    } catch (err) {
      const error = err as { code?: unknown, message?: unknown }
      seen.push({ index, bytes, sha256: hash.digest('hex'), ended: false, error: { code: error?.code ?? null, message: String(error?.message) } })
    }
  }
  return seen
}
