import { Readable } from 'node:stream'
import { ErrorCode, RpcError } from '@formcall/spec'
import type { FileInfo, FileSource } from '../bind/uploaded-file.js'
import { DISK_READ_BYTES } from '../disk-read-size.js'
import type { OpenedUpload } from './open-finished-upload.js'

/**
 * The source of a file object bound to a finished upload: its headers are the upload's metadata, its bytes the
 * upload's file, read from the handle opened when the upload was checked. It is set up before the method starts (the
 * check comes first), so `filename` and `type` are known from the start, as for the part right after `json`.
 */
export class UploadFileSource implements FileSource {
  info: FileInfo | undefined
  readonly #key: string
  #upload: OpenedUpload | undefined
  #stream: Readable | undefined
  #released = false

  /** `key`: the file object's `field`, `$upload:<id>`. */
  constructor (key: string) {
    this.#key = key
  }

  /** The upload was checked and opened: the file object can be read. */
  attach (upload: OpenedUpload): void {
    this.#upload = upload
    this.info = { field: this.#key, filename: upload.filename, type: upload.type }
  }

  async ready (): Promise<FileInfo> {
    if (this.info === undefined) throw this.#over()
    return this.info
  }

  open (): Readable {
    const upload = this.#upload
    if (upload === undefined || this.#released) {
      const failed = new Readable({ read () {} })
      process.nextTick(() => failed.destroy(this.#over()))
      return failed
    }
    if (upload.size === 0) {
      void upload.handle.close().catch(() => {})
      this.#stream = new Readable({ read () { this.push(null) } })
      return this.#stream
    }
    // The handle closes with the stream (autoClose), at its end, on error or when destroyed.
    this.#stream = upload.handle.createReadStream({ start: 0, end: upload.size - 1, highWaterMark: DISK_READ_BYTES })
    return this.#stream
  }

  /**
   * The call is over: a handle no stream took is closed, and a stream still open is ended, unless `keepStreams` (the
   * method returned a download, which may be reading it). Opening the file afterwards gives a failed stream.
   */
  async release (keepStreams: boolean): Promise<void> {
    if (this.#released) return
    this.#released = true
    if (this.#stream === undefined) {
      await this.#upload?.handle.close().catch(() => {})
      return
    }
    if (!keepStreams && !this.#stream.readableEnded) this.#stream.destroy()
  }

  #over (): RpcError {
    return new RpcError(ErrorCode.INVALID_REQUEST, `the upload of "${this.#key.slice(0, 200)}" can be read only while its call runs`)
  }
}
