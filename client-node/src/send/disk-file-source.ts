import { Readable } from 'node:stream'
import { readLocalFile } from '../read-local-file.js'

/** The slice of a file tus-js-client sends as one PATCH body; its Node HTTP stack reads `size` for Content-Length. */
type SizedStream = Readable & { size: number }

/**
 * A file on disk as tus-js-client reads it (its `FileReader`/`FileSource` seam): each PATCH gets a fresh read stream
 * over exactly its byte range, so nothing but the stream's read buffer (256 KiB) is held whatever the chunk size.
 *
 * tus-js-client's own source for an `fs.ReadStream` does the same, but leaves the slice of a PATCH that failed
 * piped into a dead request, its descriptor open; here the previous slice is destroyed when the next is taken, and
 * the last one at `close()`, so a link that drops a hundred times holds one descriptor (with tus-js-client's own source, three dropped
 * connections left three descriptors open after the upload succeeded).
 *
 * @example
 * ```ts
 * const source = new DiskFileSource(file.path, file.size)
 * const upload = new tus.Upload(file, { fileReader: { openFile: async () => source }, ... })
 * ```
 */
export class DiskFileSource {
  /** The upload's length: the file's size when the call stat'ed it. */
  readonly size: number
  readonly #path: string
  /** Slices whose descriptor may still be open: the one being sent, and any destroyed but not yet closed. */
  readonly #open = new Set<Readable>()

  constructor (path: string, size: number) {
    this.#path = path
    this.size = size
  }

  /** The bytes `[start, end)` as a stream; `done` when they reach the end of the upload. */
  async slice (start: number, end: number): Promise<{ value: SizedStream, done: boolean }> {
    for (const previous of this.#open) previous.destroy()
    const last = Math.min(end, this.size)
    // `end` of createReadStream is inclusive (and cannot express an empty range).
    const stream = (last > start ? readLocalFile(this.#path, { start, end: last - 1 }) : Readable.from([])) as SizedStream
    stream.size = Math.max(0, last - start)
    this.#open.add(stream)
    stream.once('close', () => this.#open.delete(stream))
    return { value: stream, done: last >= this.size }
  }

  /** Releases the descriptor of the slice being sent, if any (tus-js-client calls this once the upload is done). */
  close (): void {
    void this.release()
  }

  /**
   * Destroys the slice being sent, if any, and resolves once every slice's descriptor is closed: a call settles
   * only after its files are, so that the caller may delete or move them at once.
   */
  async release (): Promise<void> {
    await Promise.all([...this.#open].map(async (slice) => await new Promise<void>((resolve) => {
      slice.once('close', () => resolve())
      slice.destroy()
    })))
  }
}
