import { finished, Readable } from 'node:stream'

/**
 * A readable that creates its real source on the first read.
 *
 * A call may carry many files while the multipart body sends them one after the other; opening each file only when
 * its part is reached keeps one descriptor open at a time, and a call that fails before a part is reached opens
 * nothing for it. Destroying the wrapper destroys the source, and the wrapper's 'close' waits for the source's.
 *
 * @example
 * ```ts
 * const body = new LazyReadable(() => createReadStream('/var/data/big.bin')) // nothing opened yet
 * body.pipe(socket)                                                          // opened now
 * ```
 */
export class LazyReadable extends Readable {
  readonly #open: () => Readable
  #source: Readable | undefined

  constructor (open: () => Readable) {
    super()
    this.#open = open
  }

  override _read (): void {
    if (this.#source !== undefined) {
      this.#source.resume()
      return
    }
    let source: Readable
    try {
      source = this.#open()
    } catch (err) {
      this.destroy(err as Error)
      return
    }
    this.#source = source
    source.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) source.pause()
    })
    source.once('end', () => this.push(null))
    source.once('error', (err) => this.destroy(err))
  }

  // 'close' of the wrapper waits for the source's, so "closed" means the descriptor is released.
  override _destroy (err: Error | null, callback: (error?: Error | null) => void): void {
    const source = this.#source
    if (source === undefined || source.closed) {
      callback(err)
      return
    }
    finished(source, () => callback(err))
    source.destroy()
  }
}
