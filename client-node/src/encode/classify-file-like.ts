import { Readable } from 'node:stream'
import { LocalFile } from '../file-from-path.js'

/** A file argument, sorted by how it is measured and read. */
export type FileValue =
  | { kind: 'local'; file: LocalFile }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'blob'; blob: Blob }
  | { kind: 'web-stream'; stream: ReadableStream<Uint8Array> }
  | { kind: 'node-stream'; stream: Readable }

/**
 * Tells whether a params value is a file to upload, and which sort. Everything else travels as JSON.
 *
 * Blobs and streams are also recognised by shape, because they often come from another realm or library
 * (undici's `File`, a `fetch` body, a `readable-stream` copy) where `instanceof` fails.
 *
 * @example
 * ```ts
 * classifyFileLike(Buffer.from('x'))   // { kind: 'bytes', bytes: <Buffer 78> }
 * classifyFileLike({ name: 'x' })      // undefined
 * ```
 */
export function classifyFileLike (value: unknown): FileValue | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  if (value instanceof LocalFile) return { kind: 'local', file: value }
  if (value instanceof Uint8Array) return { kind: 'bytes', bytes: value }
  if (isBlob(value)) return { kind: 'blob', blob: value }
  if (isWebReadableStream(value)) return { kind: 'web-stream', stream: value }
  if (isNodeReadable(value)) return { kind: 'node-stream', stream: value }
  return undefined
}

function isBlob (value: object): value is Blob {
  if (value instanceof Blob) return true
  const v = value as Partial<Record<keyof Blob, unknown>>
  return typeof v.size === 'number' && typeof v.type === 'string' &&
    typeof v.stream === 'function' && typeof v.arrayBuffer === 'function' && typeof v.slice === 'function'
}

function isWebReadableStream (value: object): value is ReadableStream<Uint8Array> {
  if (value instanceof ReadableStream) return true
  const v = value as Partial<Record<keyof ReadableStream, unknown>>
  return typeof v.getReader === 'function' && typeof v.pipeTo === 'function' && typeof v.tee === 'function'
}

function isNodeReadable (value: object): value is Readable {
  if (value instanceof Readable) return true
  const v = value as Partial<Record<keyof Readable, unknown>>
  return typeof v.pipe === 'function' && typeof v.on === 'function' && typeof v.read === 'function' &&
    typeof v.pause === 'function' && typeof v.resume === 'function'
}
