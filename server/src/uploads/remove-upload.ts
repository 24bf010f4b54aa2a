import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { UPLOAD_ID } from './open-finished-upload.js'

/**
 * Deletes upload `id` from `directory`: its bytes first, then its record, so an interrupted deletion leaves a record
 * without bytes (which reads as not found, and the next sweep removes) rather than bytes nobody can name.
 *
 * @example
 * ```ts
 * await removeUpload(directory, id)
 * ```
 */
export async function removeUpload (directory: string, id: string): Promise<void> {
  if (!UPLOAD_ID.test(id)) return
  await rm(join(directory, id), { force: true })
  await rm(join(directory, `${id}.json`), { force: true })
}

/**
 * Deletes every upload in `directory` older than `expireAfter` milliseconds, finished or not, and resolves with how
 * many went. An upload's age is counted from the creation date in its record, as the tus server counts it for its
 * 410 answers; bytes without a record (a creation cut short by a crash) count from their last write. Only names of
 * the upload-id form are looked at: anything else in the directory is left alone. An entry that cannot be read is
 * skipped, not fatal: one bad file must not keep the rest from being swept.
 *
 * (@tus/file-store's own `deleteExpired` is not used: it skips bytes without a record, and its first error ends
 * the sweep.)
 *
 * @example
 * ```ts
 * const removed = await removeExpiredUploads(directory, 24 * 3600_000)
 * ```
 */
export async function removeExpiredUploads (directory: string, expireAfter: number, now = Date.now()): Promise<number> {
  const names = new Set(await readdir(directory))
  let removed = 0
  for (const name of names) {
    const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : name
    if (!UPLOAD_ID.test(id) || (id === name && names.has(`${id}.json`))) continue
    try {
      let born: number
      if (id !== name) {
        born = await creationDateOf(join(directory, name))
        // A record whose date cannot be read is as old as its file: a broken record must not keep bytes forever.
        if (Number.isNaN(born)) born = (await stat(join(directory, name))).mtimeMs
      } else {
        born = (await stat(join(directory, name))).mtimeMs
      }
      if (born + expireAfter > now) continue
      await removeUpload(directory, id)
      removed++
    } catch {
      // Gone meanwhile (deleted by a call or a DELETE), or unreadable: the next sweep looks again.
    }
  }
  return removed
}

/** The creation date in an upload's record, in ms, or NaN when the record cannot be read as one. */
async function creationDateOf (path: string): Promise<number> {
  let record: unknown
  try {
    record = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err
    return Number.NaN
  }
  const date = (record as { creation_date?: unknown } | null)?.creation_date
  return typeof date === 'string' ? Date.parse(date) : Number.NaN
}
