import { ReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web'
import type { FoundFile } from '@formcall/spec/client'
import type { FileValue } from './classify-file-like.js'
import { readLocalFile } from '../read-local-file.js'
import { LazyReadable } from './lazy-readable.js'
import { DEFAULT_FILENAME, filenameOfPath, partFilename } from './part-filename.js'
import { statLocalFile } from './stat-local-file.js'

/** One file part, measured and ready to be appended to the multipart body. */
export interface FilePart {
  /** The part name: `f0`, `f1`, … */
  part: string
  /** Where the file first appears in params, for error messages. */
  where: string
  /** The filename sent in `Content-Disposition`, already safe to quote. */
  filename: string
  /** The declared content type, or `undefined` to let the encoder guess it from the filename. */
  type: string | undefined
  /** The byte count when known for sure, else `null` (then the request is sent chunked). */
  size: number | null
  /** The bytes: a buffer, or a stream that is read only when this part is written. */
  body: Buffer | Readable
}

/**
 * Measures one file argument and turns it into a part: filename, content type, size and a body to stream.
 *
 * Nothing is buffered: a Blob or web stream becomes a Node stream over its chunks, a path is opened only when its
 * part is written. A size of 0 from `stat` is treated as unknown, because files in `/proc` and similar report 0 and
 * still have content; sending those chunked is always correct.
 *
 * @example
 * ```ts
 * const part = await preparePart({ part: 'f0', where: 'params[0]', file: { kind: 'bytes', bytes: Buffer.from('hi') } })
 * part.size // 2
 * ```
 */
export async function preparePart (found: FoundFile<FileValue>): Promise<FilePart> {
  const { part, where, file: value } = found
  const named = (filename: string | undefined, type: string | undefined, size: number | null, body: Buffer | Readable): FilePart =>
    ({ part, where, filename: partFilename(filename ?? DEFAULT_FILENAME), type: type === '' ? undefined : type, size, body })

  switch (value.kind) {
    case 'bytes': {
      const { bytes } = value
      // The encoder only recognises Buffer as bytes; a view over the same memory avoids a copy.
      const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      return named(undefined, undefined, buffer.length, buffer)
    }
    case 'blob': {
      const { blob } = value
      const name = (blob as Partial<File>).name
      const body = blob.size === 0
        ? Buffer.alloc(0)
        : new LazyReadable(() => Readable.fromWeb(blob.stream() as unknown as NodeWebReadableStream<Uint8Array>))
      return named(typeof name === 'string' ? name : undefined, blob.type, blob.size, body)
    }
    case 'web-stream':
      return named(undefined, undefined, null, Readable.fromWeb(value.stream as unknown as NodeWebReadableStream<Uint8Array>))
    case 'node-stream': {
      const { stream } = value
      const path = (stream as { path?: unknown }).path
      const size = stream instanceof ReadStream ? await sizeOfReadStream(stream) : null
      return named(filenameOfPath(path), undefined, size, stream)
    }
    case 'local': {
      const { file } = value
      const stats = await statLocalFile(file, where)
      const size = stats.isFile() && stats.size > 0 ? stats.size : null
      return named(file.filename, file.type, size, new LazyReadable(() => readLocalFile(file.path)))
    }
  }
}

/**
 * The bytes an `fs.ReadStream` will deliver: its file's size cut to the stream's `start`/`end`, or `null` when that
 * cannot be known (no path, already partly read, stat failed: then the stream reports its own error).
 */
async function sizeOfReadStream (stream: ReadStream): Promise<number | null> {
  const { path, bytesRead } = stream
  const { start, end } = stream as { start?: number; end?: number }
  if (bytesRead > 0 || (typeof path !== 'string' && !Buffer.isBuffer(path))) return null
  try {
    const stats = await stat(path)
    if (!stats.isFile() || stats.size === 0) return null
    const first = start ?? 0
    const last = Math.min(end ?? Infinity, stats.size - 1)
    return Math.max(0, last - first + 1) || null
  } catch {
    return null
  }
}
