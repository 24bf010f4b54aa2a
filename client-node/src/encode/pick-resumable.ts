import mime from 'mime-types'
import type { FoundFile } from '@formcall/spec/client'
import type { ResolvedResumable } from '../resolve-options.js'
import type { FileValue } from './classify-file-like.js'
import { statLocalFile } from './stat-local-file.js'

/** A file on disk that the call uploads resumably before it is made. */
export interface ResumableFile {
  /** The part name the params walk gave it (`f0`, …): its placeholder is replaced by the upload's. */
  part: string
  /** Where it first appears in params, for error messages. */
  where: string
  path: string
  /** Sent as the upload's `filename` metadata. */
  filename: string
  /** Sent as the upload's `filetype` metadata: the declared type, else a guess from the filename, else none. */
  type: string | undefined
  /** Its size when stat'ed: the upload's `Upload-Length`. */
  size: number
  /** Its modification time when stat'ed, in ms: with path and size, what tells a resumed upload is of this file. */
  modified: number
}

/**
 * Picks the files of a call that go resumably: every `fileFromPath` file made with `{ resumable: true }`, and, when
 * the client sets `resumable.above`, every other one larger than that (unless made with `{ resumable: false }`).
 * Only regular files qualify for `above`: a FIFO or a `/proc` file has no size to declare and cannot be re-read from
 * an offset, so it stays a multipart part; asked for explicitly, it fails the call.
 *
 * @example
 * ```ts
 * const resumable = await pickResumable(files, options.resumable)
 * resumable[0]?.part // 'f1'
 * ```
 */
export async function pickResumable (files: ReadonlyArray<FoundFile<FileValue>>, options: ResolvedResumable): Promise<ResumableFile[]> {
  const picked = await Promise.all(files.map(async ({ part, where, file: value }): Promise<ResumableFile | undefined> => {
    if (value.kind !== 'local') return undefined
    const { file } = value
    if (file.resumable === false || (file.resumable === undefined && options.above === undefined)) return undefined
    const stats = await statLocalFile(file, where)
    if (!stats.isFile()) {
      if (file.resumable === true) {
        throw new Error(`cannot upload fileFromPath("${file.path}") at ${where} resumably: it is not a regular file, so its ` +
          'size cannot be declared nor its bytes read again from an offset; send it without { resumable: true }')
      }
      return undefined
    }
    if (file.resumable === undefined && !(stats.size > (options.above as number))) return undefined
    const guessed = mime.lookup(file.filename)
    return {
      part,
      where,
      path: file.path,
      filename: file.filename,
      type: file.type !== undefined && file.type !== '' ? file.type : guessed === false ? undefined : guessed,
      size: stats.size,
      modified: stats.mtimeMs
    }
  }))
  return picked.filter((file): file is ResumableFile => file !== undefined)
}
