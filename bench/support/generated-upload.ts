import { Readable } from 'node:stream'

/** The boundary of every multipart body the bench writes itself. */
export const BOUNDARY = '----formcall-bench-7d0c9a4e21b3'

/** The file part's name, referenced by the call's `{"$file": "f0"}` placeholder. */
export const FILE_PART = 'f0'

/**
 * One block of pseudo-random bytes (xorshift32, fixed seed): the same bytes in every run and every row, and
 * incompressible-looking like a real media file, so the parsers' boundary search sees realistic data.
 */
export function makeBlock (size: number): Buffer {
  const block = Buffer.allocUnsafe(size)
  let x = 0x9e3779b9
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    block[i] = x & 0xff
  }
  const delimiter = Buffer.from(`\r\n--${BOUNDARY}`)
  if (Buffer.concat([block, block]).includes(delimiter)) throw new Error('the generated block contains the boundary')
  return block
}

/**
 * A readable that emits `head`, then `bytes` bytes made of repeats of `block` (the last one cut short), then
 * `tail`. Nothing is read from disk and nothing is copied: each push hands over the same block, so the source costs
 * the load client almost no CPU or memory.
 *
 * @example
 * ```ts
 * const body = new GeneratedBytes({ bytes: 2 ** 30, block: makeBlock(65536) })
 * ```
 */
export class GeneratedBytes extends Readable {
  readonly #block: Buffer
  #head: Buffer | undefined
  #tail: Buffer | undefined
  #left: number

  constructor (options: { bytes: number, block: Buffer, head?: Buffer, tail?: Buffer }) {
    super({ highWaterMark: options.block.length })
    this.#block = options.block
    this.#head = options.head
    this.#tail = options.tail
    this.#left = options.bytes
  }

  override _read (): void {
    for (;;) {
      const chunk = this.#nextChunk()
      if (chunk === null) {
        this.push(null)
        return
      }
      if (!this.push(chunk)) return
    }
  }

  #nextChunk (): Buffer | null {
    if (this.#head !== undefined) {
      const head = this.#head
      this.#head = undefined
      return head
    }
    if (this.#left > 0) {
      const size = Math.min(this.#left, this.#block.length)
      this.#left -= size
      return size === this.#block.length ? this.#block : this.#block.subarray(0, size)
    }
    if (this.#tail !== undefined) {
      const tail = this.#tail
      this.#tail = undefined
      return tail
    }
    return null
  }
}

/**
 * `size` bytes of repeats of `block` (`size` a multiple of the block's length), allocated once: the raw load
 * client writes this one buffer again and again, so the bytes it sends are those a {@link GeneratedBytes} of the
 * same block gives, without a push, a copy or a call per block.
 */
export function repeatedBlock (block: Buffer, size: number): Buffer {
  if (size <= 0 || size % block.length !== 0) throw new Error(`${size} is not a positive multiple of the block size ${block.length}`)
  const run = Buffer.allocUnsafe(size)
  for (let offset = 0; offset < size; offset += block.length) block.copy(run, offset)
  return run
}

/** The bytes before and after the file's content in the raw load client's multipart body. */
export function uploadFraming (callJson: string): { head: Buffer, tail: Buffer } {
  const head = Buffer.from(
    `--${BOUNDARY}\r\n` +
    'Content-Disposition: form-data; name="json"\r\n\r\n' +
    `${callJson}\r\n` +
    `--${BOUNDARY}\r\n` +
    `Content-Disposition: form-data; name="${FILE_PART}"; filename="upload.bin"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n')
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`)
  return { head, tail }
}

/** A multipart body of only the `json` part: the smallest multipart call. */
export function jsonOnlyMultipart (callJson: string): { contentType: string, body: string } {
  return {
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="json"\r\n\r\n${callJson}\r\n--${BOUNDARY}--\r\n`
  }
}
