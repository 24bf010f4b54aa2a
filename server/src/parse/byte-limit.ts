import { Transform, type TransformCallback } from 'node:stream'
import { PART_HIGH_WATER_MARK } from './part-buffer.js'

/**
 * Passes bytes through while `admit(chunkLength)` says yes, and fails with `makeError()` once it says no. Used where
 * the parser has no limit of its own: text parts (one counter each) and spool files (one counter per request).
 */
export class ByteLimit extends Transform {
  readonly #admit: (bytes: number) => boolean
  readonly #makeError: () => Error

  constructor (admit: (bytes: number) => boolean, makeError: () => Error) {
    super({ highWaterMark: PART_HIGH_WATER_MARK })
    this.#admit = admit
    this.#makeError = makeError
  }

  /** A limit of `max` bytes through this one stream. */
  static of (max: number, makeError: () => Error): ByteLimit {
    let seen = 0
    return new ByteLimit((bytes) => (seen += bytes) <= max, makeError)
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#admit(chunk.length)) callback(null, chunk)
    else callback(this.#makeError())
  }
}
