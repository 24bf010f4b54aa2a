import { constants } from 'node:fs'
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { ErrorCode, RpcError } from '@formcall/spec'

/**
 * What an upload id may look like: the tus server's own ids are 32 hex digits. Checked before the id goes near a
 * path, so no `/`, `..` or NUL can reach the file system.
 */
export const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/

/** A finished upload, opened for one call. */
export interface OpenedUpload {
  readonly id: string
  /** Open on the upload's bytes: a deletion or a sweep after the check does not take them from the call. */
  readonly handle: FileHandle
  readonly size: number
  /** The tus metadata `filename` (or Uppy's `name`); `null` when the client sent none. Informational, never a path. */
  readonly filename: string | null
  /** The tus metadata `filetype` (or `type`); `application/octet-stream` when the client sent none. */
  readonly type: string
}

/** The upload's record as @tus/file-store writes it beside the bytes, as `<id>.json`. */
interface UploadRecord {
  size?: unknown
  metadata?: unknown
  creation_date?: unknown
}

/**
 * Opens upload `id` in `directory` for a call, after checking that it exists, has not expired and has received every
 * byte it declared. Throws RpcError UPLOAD_NOT_FOUND (-32016), UPLOAD_EXPIRED (-32018) or UPLOAD_INCOMPLETE (-32017)
 * otherwise. The bytes are checked on the open file (`fstat`), not by path, so what was checked is what is read.
 *
 * @example
 * ```ts
 * const upload = await openFinishedUpload(directory, id, { expireAfter: 86_400_000 })
 * const bytes = upload.handle.createReadStream()
 * ```
 */
export async function openFinishedUpload (directory: string, id: string, options: { expireAfter: number, now?: number }): Promise<OpenedUpload> {
  const notFound = (): RpcError => new RpcError(ErrorCode.UPLOAD_NOT_FOUND,
    `no upload has the id "${id.slice(0, 200)}" (never created, terminated, or deleted after it expired or was used); upload the file again`,
    { upload: id.slice(0, 200) })
  if (!UPLOAD_ID.test(id)) throw notFound()
  let record: UploadRecord
  try {
    record = JSON.parse(await readFile(join(directory, `${id}.json`), 'utf8')) as UploadRecord
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound()
    throw err
  }
  if (typeof record !== 'object' || record === null) throw notFound()
  const created = typeof record.creation_date === 'string' ? Date.parse(record.creation_date) : Number.NaN
  const now = options.now ?? Date.now()
  // An upload without a readable creation date cannot be shown to be young: it counts as expired.
  if (!(created + options.expireAfter > now)) {
    throw new RpcError(ErrorCode.UPLOAD_EXPIRED,
      `upload "${id}" expired (uploads expire ${Math.round(options.expireAfter / 1000)} s after they are created); upload the file again`,
      { upload: id })
  }
  let handle: FileHandle
  try {
    // O_NOFOLLOW: a symbolic link planted in the directory is not followed out of it.
    handle = await open(join(directory, id), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound()
    throw err
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) throw notFound()
    const declared = typeof record.size === 'number' && Number.isSafeInteger(record.size) ? record.size : undefined
    if (declared === undefined || stats.size !== declared) {
      throw new RpcError(ErrorCode.UPLOAD_INCOMPLETE,
        `upload "${id}" has ${stats.size} of ${declared === undefined ? 'an undeclared number of' : String(declared)} bytes; ` +
        'resume it to its end (HEAD it for its offset, then PATCH the rest), then call again',
        { upload: id, offset: stats.size, ...(declared === undefined ? {} : { length: declared }) })
    }
    const metadata = typeof record.metadata === 'object' && record.metadata !== null ? record.metadata as Record<string, unknown> : {}
    const text = (...keys: string[]): string | undefined => {
      for (const key of keys) {
        const value = metadata[key]
        if (typeof value === 'string' && value !== '') return value
      }
      return undefined
    }
    return { id, handle, size: stats.size, filename: text('filename', 'name') ?? null, type: text('filetype', 'type') ?? 'application/octet-stream' }
  } catch (err) {
    await handle.close().catch(() => {})
    throw err
  }
}
