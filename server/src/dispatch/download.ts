import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { Readable } from 'node:stream'
import { DOWNLOAD_BRAND, hasBrand } from '@formcall/spec'
import { DISK_READ_BYTES } from '../disk-read-size.js'

/** Options of {@link download}. */
export interface DownloadOptions {
  /** Filename for Content-Disposition (the client's save-as name). */
  filename?: string
  /** Content-Type; default `application/octet-stream`. */
  type?: string
  /**
   * Byte length, sent as Content-Length; known already for buffers and Blobs. The source must have exactly this many
   * bytes: one that has more or fewer fails the download (a JSON error if no byte was sent yet, else a cut connection).
   * Leave it unset for a stream of unknown length: it is then sent chunked.
   */
  size?: number
}

/**
 * A file a method returns: streamed back as the response body with its headers (PROTOCOL.md section 7).
 */
export class Download {
  declare readonly [DOWNLOAD_BRAND]: true
  readonly filename: string | undefined
  readonly type: string
  readonly size: number | undefined
  readonly #open: () => Readable | Promise<Readable>

  /** @internal Use {@link download} or {@link downloadFile}. */
  constructor (open: () => Readable | Promise<Readable>, options: DownloadOptions) {
    this.#open = open
    this.filename = options.filename
    this.type = options.type ?? 'application/octet-stream'
    this.size = options.size
  }

  /** True for any Download, also one made by a second copy of this package (a worker's bundle). */
  static [Symbol.hasInstance] (value: unknown): boolean {
    return hasBrand(value, DOWNLOAD_BRAND)
  }

  /** @internal Opens the body stream. */
  async open (): Promise<Readable> {
    return await this.#open()
  }
}
Object.defineProperty(Download.prototype, DOWNLOAD_BRAND, { value: true })

/**
 * Wraps bytes a method returns as a named download.
 *
 * @example
 * ```ts
 * report: () => download(Buffer.from('a,b\n1,2\n'), { filename: 'report.csv', type: 'text/csv' })
 * export: () => download(createReadStream(path), { filename: 'data.bin', size })
 * ```
 */
export function download (source: Readable | Uint8Array | Blob, options: DownloadOptions = {}): Download {
  if (source instanceof Uint8Array) {
    return new Download(() => Readable.from([source]), { ...options, size: source.byteLength })
  }
  if (source instanceof Blob) {
    const type = options.type ?? (source.type === '' ? undefined : source.type)
    return new Download(() => Readable.fromWeb(source.stream() as import('node:stream/web').ReadableStream),
      { ...options, ...(type === undefined ? {} : { type }), size: source.size })
  }
  return new Download(() => source, options)
}

/**
 * A file on the server's disk as a download, sized with `stat` so Content-Length is sent. The filename defaults to
 * the path's basename. A file whose size changes between this call and its sending (still being written, truncated)
 * fails the download rather than send a body that disagrees with its Content-Length.
 *
 * @example
 * ```ts
 * fetchBackup: () => downloadFile('/var/backups/latest.tar.gz', { type: 'application/gzip' })
 * ```
 */
export async function downloadFile (path: string, options: DownloadOptions = {}): Promise<Download> {
  const { size } = await stat(path)
  // At most one byte past the size (`end` is inclusive): enough to tell that the file grew, without reading a file that
  // keeps growing (a log) to its end only to fail.
  return new Download(() => createReadStream(path, { end: size, highWaterMark: DISK_READ_BYTES }), { filename: basename(path), ...options, size })
}

/** The value as a Download if a method returned a file (a Download, a Node readable, bytes or a Blob). */
export function asDownload (value: unknown): Download | undefined {
  if (value instanceof Download) return value
  if (value instanceof Readable) return download(value)
  if (value instanceof Uint8Array || value instanceof Blob) return download(value)
  return undefined
}
