import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/** What a download is made of. */
export interface DownloadedFileInit {
  filename: string | null
  type: string
  size: number | null
  stream: Readable
}

/**
 * A file a method returned. Its bytes arrive as `stream` and can be read once, whichever way: the stream itself,
 * `text()`, `bytes()` or `saveTo()`. The stream fails if the transfer is cut short, so a short file is never taken
 * for a whole one.
 *
 * Until the body is read or `stream.destroy()`ed, the connection stays busy with it.
 *
 * @example
 * ```ts
 * const report = await api.reports.export({ month: '2026-11' })
 * console.log(report.filename, report.type, report.size)
 * await report.saveTo(`./downloads/${report.filename ?? 'report'}`)
 * ```
 */
export class DownloadedFile {
  /** The server's suggested filename (a base name, never a path), or `null` if it sent none. */
  readonly filename: string | null
  /** The `Content-Type`, `application/octet-stream` when the server sent none. */
  readonly type: string
  /** The size in bytes from `Content-Length`, or `null` when the server streamed it without one. */
  readonly size: number | null
  /** The bytes; fails with a `network` TransportError if the body is cut short. */
  readonly stream: Readable
  #taken = false

  constructor ({ filename, type, size, stream }: DownloadedFileInit) {
    this.filename = filename
    this.type = type
    this.size = size
    this.stream = stream
  }

  /**
   * Reads the whole body into memory.
   *
   * @example
   * ```ts
   * const bytes = await (await api.images.thumbnail(id)).bytes()
   * ```
   */
  async bytes (): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of this.#take()) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks)
  }

  /**
   * Reads the whole body as UTF-8 text.
   *
   * @example
   * ```ts
   * const csv = await (await api.reports.csv()).text()
   * ```
   */
  async text (): Promise<string> {
    return (await this.bytes()).toString('utf8')
  }

  /**
   * Streams the body into a file (created or overwritten). If the transfer fails, the partial file is removed, so
   * a file at `path` after success is always complete.
   *
   * @example
   * ```ts
   * await (await api.backups.latest()).saveTo('/var/backups/latest.tar.gz')
   * ```
   */
  async saveTo (path: string): Promise<void> {
    const source = this.#take()
    const file = createWriteStream(path)
    let opened = false
    file.once('open', () => { opened = true })
    try {
      await pipeline(source, file)
    } catch (err) {
      if (opened) await rm(path, { force: true }).catch(() => {})
      throw err
    }
  }

  /** The stream, once; a second read would silently get nothing or half the bytes. */
  #take (): Readable {
    if (this.#taken || this.stream.readableDidRead || this.stream.destroyed) {
      throw new Error(`the body of the download${this.filename === null ? '' : ` "${this.filename}"`} was already read ` +
        '(through stream, text(), bytes() or saveTo()); a download can be read once, keep the bytes if you need them twice')
    }
    this.#taken = true
    return this.stream
  }
}
