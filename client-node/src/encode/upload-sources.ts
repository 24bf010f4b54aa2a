import { finished, type Readable } from 'node:stream'

/**
 * The streams that feed one request body: the caller's streams and the ones opened for paths and Blobs.
 *
 * It has two jobs. It listens for read errors from the moment a stream joins the call (a stream that fails before
 * its part is reached would otherwise crash the process with an unhandled 'error'), and reports the first one with
 * where the file was in params. And it destroys every stream that has not ended when the call is over early, so no
 * descriptor outlives its call: a stream passed to a call belongs to it.
 *
 * @example
 * ```ts
 * const sources = new UploadSources()
 * sources.add(createReadStream(path), 'params[0].file', 'f0')
 * sources.onError((err) => request.destroy(err))
 * // … when the call is over:
 * await sources.destroy()
 * ```
 */
export class UploadSources {
  readonly #streams: Readable[] = []
  readonly #listeners: Array<(error: Error) => void> = []
  #error: Error | undefined

  /** Adds a stream; its first error fails the upload with a message naming `where`. */
  add (stream: Readable, where: string, part: string): void {
    this.#streams.push(stream)
    if (stream.readableEnded || stream.destroyed) {
      this.#fail(new Error(`the stream passed at ${where} (part "${part}") was already ${stream.readableEnded ? 'read to its end' : 'destroyed'}; ` +
        'pass a fresh stream for each call'))
      return
    }
    stream.on('error', (err: Error) => {
      this.#fail(new Error(`reading the file passed at ${where} (part "${part}") failed: ${err.message}`, { cause: err }))
    })
  }

  /** The first read error, if any. */
  get error (): Error | undefined {
    return this.#error
  }

  /** Calls `listener` with the first read error: now if there already was one, else when it happens. */
  onError (listener: (error: Error) => void): void {
    if (this.#error !== undefined) listener(this.#error)
    else this.#listeners.push(listener)
  }

  /**
   * Destroys every stream that has not been read to its end, and resolves once all of them are closed, so that
   * a call settles only after its files are: the caller may delete or move them at once.
   */
  destroy (): Promise<void> {
    return Promise.all(this.#streams.map((stream) => new Promise<void>((resolve) => {
      if (stream.closed) {
        resolve()
        return
      }
      finished(stream, () => resolve())
      if (!stream.destroyed && !stream.readableEnded) stream.destroy()
    }))).then(() => {})
  }

  #fail (error: Error): void {
    if (this.#error !== undefined) return
    this.#error = error
    for (const listener of this.#listeners.splice(0)) listener(error)
  }
}
