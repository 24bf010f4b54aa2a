import { basename } from 'node:path'

const kLocalFile = Symbol.for('formcall.client-node.LocalFile')

/**
 * Options of {@link fileFromPath}.
 *
 * @example
 * ```ts
 * const options: FileFromPathOptions = { filename: 'invoice-2026-11.pdf', type: 'application/pdf' }
 * ```
 */
export interface FileFromPathOptions {
  /** The filename sent to the server; defaults to the path's base name. */
  filename?: string
  /** The content type sent to the server; defaults to a guess from the filename's extension. */
  type?: string
  /**
   * `true`: upload the file resumably through the server's tus endpoint before the call, and bind it to the call by
   * reference (see `ResumableOptions` for retries, chunk size and resuming after a restart). `false`: always send it
   * as a multipart part, whatever the client's `resumable.above`. Unset: the client's `resumable.above` decides.
   */
  resumable?: boolean
}

/**
 * A file on disk, named by its path and opened only when a call sends it.
 *
 * Holding one costs no file descriptor, so a call can carry many of them; each is opened when its part is
 * written and closed when it has been sent or the call ends. Make one with {@link fileFromPath}.
 *
 * @example
 * ```ts
 * const report = fileFromPath('./out/report.pdf')
 * report.filename // 'report.pdf'
 * ```
 */
export class LocalFile {
  /** The path, as given. */
  readonly path: string
  /** The filename the server receives. */
  readonly filename: string
  /** The content type the server receives, or `undefined` to guess it from the filename. */
  readonly type: string | undefined
  /** `true`/`false` as given to {@link fileFromPath}, or `undefined` to let the client's `resumable.above` decide. */
  readonly resumable: boolean | undefined

  constructor (path: string, options: FileFromPathOptions = {}) {
    if (typeof path !== 'string' || path === '') {
      throw new TypeError(`fileFromPath needs a non-empty path string; got ${typeof path === 'string' ? 'an empty string' : typeof path}`)
    }
    this.path = path
    this.filename = options.filename ?? basename(path)
    this.type = options.type
    if (options.resumable !== undefined && typeof options.resumable !== 'boolean') {
      throw new TypeError(`fileFromPath's resumable option must be true or false; got ${typeof options.resumable}`)
    }
    this.resumable = options.resumable
  }

  /** True for any LocalFile, from this copy of the package or another. */
  static [Symbol.hasInstance] (value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kLocalFile] === true
  }
}
Object.defineProperty(LocalFile.prototype, kLocalFile, { value: true })

/**
 * Names a file on disk to pass as a call argument. Nothing is opened or read here: the call stats the file for its
 * size (so the upload can declare a `Content-Length`) and streams it when its part is sent. A missing file therefore
 * rejects the call, not this function.
 *
 * @example
 * ```ts
 * await api.files.store({ title: 'Q3', file: fileFromPath('./q3.pdf', { type: 'application/pdf' }) })
 * // Uploaded through the server's tus endpoint first, resuming after dropped connections, then bound to the call:
 * await api.videos.publish({ title: 'talk', video: fileFromPath('./talk.mp4', { resumable: true }) })
 * ```
 */
export function fileFromPath (path: string, options?: FileFromPathOptions): LocalFile {
  return new LocalFile(path, options)
}
