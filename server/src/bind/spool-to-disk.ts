import type { Readable } from 'node:stream'
import { WriteStream } from 'fs-capacitor'
import { ByteLimit } from '../parse/byte-limit.js'

/**
 * A part's remaining bytes, written to a temp file that can be read while it is still being written (fs-capacitor).
 * Made only when a method waits for a later part while this one is unread, so in-order reads never touch the disk.
 */
export interface Spool {
  /** A reader of everything spooled so far and still to come. */
  createReadStream (): Readable
  /** Removes the temp file and fails readers with `err`, if given. */
  destroy (err?: Error): void
}

/**
 * Pipes `part` into a new temp file in `tmpDir`, counting against the request's spool budget.
 *
 * @example
 * ```ts
 * const spool = spoolToDisk(part, { tmpDir, budget, onError })
 * spool.createReadStream().pipe(consumer)
 * ```
 */
export function spoolToDisk (part: Readable, options: {
  tmpDir: string
  /** Counts the request's spooled bytes and fails once the request's `spoolSize` is exceeded. */
  budget: () => ByteLimit
  onError: (err: Error) => void
}): Spool {
  const file = new WriteStream({ tmpdir: () => options.tmpDir })
  const limiter = options.budget()
  limiter.on('error', (err) => {
    file.destroy(err)
    options.onError(err)
  })
  file.on('error', options.onError)
  part.pipe(limiter).pipe(file)
  return {
    createReadStream: () => file.createReadStream(),
    destroy: (err?: Error) => {
      part.unpipe(limiter)
      file.destroy(err)
    }
  }
}
