import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { FILE_BRAND, FILES_BRAND, hasBrand } from '@formcall/spec'
import type { FileInfo } from '../parse/part-info.js'

export type { FileInfo }

/**
 * Where a file object's bytes and headers come from: the request's part in-process, or a message port in a worker.
 */
export interface FileSource {
  /** The part's headers once it has arrived, else `undefined`. */
  readonly info: FileInfo | undefined
  /** Resolves once the part has arrived (earlier unread parts are spooled to let it through). */
  ready (): Promise<FileInfo>
  /** Starts the flow of the part's bytes; called at most once. */
  open (): Readable
  /** Calls `listener` once the part has arrived, without asking for it (no spooling of earlier parts). */
  onArrival? (listener: (info: FileInfo) => void): void
}

/**
 * The key of an UploadedFile's internal arrival hook: the worker bridge tells a method in a worker a part's headers
 * as soon as they arrive, as an inline method would see them. Not part of the package's exports.
 */
export const WHEN_ARRIVED: unique symbol = Symbol('formcall.whenArrived')

/**
 * A file argument, handed to the method while its bytes are still arriving.
 *
 * The bytes can be read once, by exactly one of: `stream`, `for await`, `text()`, `bytes()`, `saveTo()`. The stream
 * ends only when the whole part arrived; if the upload is cut short (limit, broken body, client gone) it errors, so
 * a truncated file is never mistaken for a complete one.
 *
 * The method starts as soon as the call is parsed, so a later file's headers may not have arrived yet: parts arrive in
 * order, each after the bytes of the ones before it. `filename` and `type` are known once the part arrived: the part
 * right after `json` has when the method starts, any other after `await file.ready()` or its first chunk. Read before
 * that, they throw (they never guess: a `filename` of `null` means a text part).
 *
 * @example
 * ```ts
 * async function store ({ title, file }: { title: string, file: UploadedFile }) {
 *   const hash = createHash('sha256')
 *   for await (const chunk of file) hash.update(chunk)
 *   return { title, name: file.filename, sha256: hash.digest('hex') }
 * }
 * ```
 */
export class UploadedFile implements AsyncIterable<Buffer> {
  declare readonly [FILE_BRAND]: true
  /** The multipart part name. */
  readonly field: string
  readonly #source: FileSource
  #stream: Readable | undefined

  /** @internal Made by the server. */
  constructor (field: string, source: FileSource) {
    this.field = field
    this.#source = source
  }

  /**
   * The client's filename: informational only, never a safe path. `null` for text parts.
   *
   * @throws Error before the part's headers arrived: `await file.ready()` first.
   */
  get filename (): string | null {
    return this.#info().filename
  }

  /**
   * The part's declared content type (`text/plain` when it declared none, RFC 7578 §4.4).
   *
   * @throws Error before the part's headers arrived: `await file.ready()` first.
   */
  get type (): string {
    return this.#info().type
  }

  /** Whether the part's headers have arrived. */
  get arrived (): boolean {
    return this.#source.info !== undefined
  }

  /**
   * Waits for the part's headers, so `filename` and `type` are known; rejects if the part never arrives (the body
   * ended without it, or the upload failed first).
   */
  async ready (): Promise<FileInfo> {
    return await this.#source.ready()
  }

  /** @internal Calls `listener` with the part's headers once they arrived (at once if they have). */
  [WHEN_ARRIVED] (listener: (info: FileInfo) => void): void {
    const info = this.#source.info
    if (info !== undefined) listener(info)
    else this.#source.onArrival?.(listener)
  }

  #info (): FileInfo {
    const info = this.#source.info
    if (info === undefined) {
      // A default here (null, application/octet-stream) would pass for a text part's headers or a real type.
      throw new Error(`the headers of part "${this.field.slice(0, 100)}" have not arrived yet, so its filename and type ` +
        'are not known; await file.ready() first (parts arrive in order, each after the bytes of the ones before it)')
    }
    return info
  }

  /** The bytes as a Node readable. The first access starts the transfer; later accesses return the same stream. */
  get stream (): Readable {
    this.#stream ??= this.#source.open()
    return this.#stream
  }

  [Symbol.asyncIterator] (): AsyncIterator<Buffer> {
    return this.stream[Symbol.asyncIterator]()
  }

  /** Reads the whole file into memory. Mind `limits.fileSize`: prefer `stream` for large files. */
  async bytes (): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of this) chunks.push(chunk)
    return Buffer.concat(chunks)
  }

  /** Reads the whole file as text. */
  async text (encoding: BufferEncoding = 'utf8'): Promise<string> {
    return (await this.bytes()).toString(encoding)
  }

  /**
   * Writes the file to `path` (chosen by the server, never from `filename`) and resolves with its size. A failed or
   * truncated transfer removes the partial file and rejects.
   */
  async saveTo (path: string, options: { signal?: AbortSignal } = {}): Promise<number> {
    let size = 0
    const out = createWriteStream(path, { flags: 'wx' })
    try {
      await pipeline(this.stream, async function * (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          size += chunk.length
          yield chunk
        }
      }, out, options.signal === undefined ? {} : { signal: options.signal })
    } catch (err) {
      await rm(path, { force: true })
      throw err
    }
    return size
  }

  /** True for any UploadedFile, also one made by a second copy of this package (a worker's bundle). */
  static [Symbol.hasInstance] (value: unknown): boolean {
    return hasBrand(value, FILE_BRAND)
  }

  /** The part's name, with its filename and type once they arrived. */
  toJSON (): FileInfo | { readonly field: string } {
    const info = this.#source.info
    return info === undefined ? { field: this.field } : { field: this.field, filename: info.filename, type: info.type }
  }
}
Object.defineProperty(UploadedFile.prototype, FILE_BRAND, { value: true })

/**
 * Every part sent under one name (`{"$files": name}`, an `<input type=file multiple>`), yielded in arrival order;
 * iteration ends when the request body ends.
 *
 * The formcall clients send a list of files they hold as an array of `$file` placeholders instead, which arrives as
 * `UploadedFile[]`; a method that only iterates its parameter with `for await` accepts both.
 *
 * @example
 * ```ts
 * async function digest (docs: UploadedFiles) {
 *   const out = []
 *   for await (const file of docs) out.push({ name: file.filename, sha256: await sha256(file) })
 *   return out
 * }
 * ```
 */
export class UploadedFiles implements AsyncIterable<UploadedFile> {
  declare readonly [FILES_BRAND]: true
  /** The multipart part name. */
  readonly field: string
  readonly #source: AsyncIterable<UploadedFile>
  #iterated = false

  /** @internal Made by the server. */
  constructor (field: string, source: AsyncIterable<UploadedFile>) {
    this.field = field
    this.#source = source
  }

  [Symbol.asyncIterator] (): AsyncIterator<UploadedFile> {
    if (this.#iterated) throw new TypeError(`the files of "${this.field}" can be iterated only once`)
    this.#iterated = true
    return this.#source[Symbol.asyncIterator]()
  }

  /** True for any UploadedFiles, also one made by a second copy of this package. */
  static [Symbol.hasInstance] (value: unknown): boolean {
    return hasBrand(value, FILES_BRAND)
  }

  toJSON (): { $files: string } {
    return { $files: this.field }
  }
}
Object.defineProperty(UploadedFiles.prototype, FILES_BRAND, { value: true })
