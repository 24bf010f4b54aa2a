import type { IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyReply } from 'fastify'
import { WriteStream } from 'fs-capacitor'
import { DOWNLOAD_HEADER, ErrorCode, formatContentDisposition, RpcError } from '@formcall/spec'
import type { Download } from '../dispatch/download.js'
import { toRpcError } from '../dispatch/outcome.js'
import { DISK_READ_BYTES } from '../disk-read-size.js'
import { ByteLimit } from '../parse/byte-limit.js'

/**
 * The key under which the plugin puts its {@link DownloadStore} on its Fastify scope (read through `reply.server`).
 */
export const DOWNLOAD_STORE = Symbol.for('formcall.downloadStore')

/** Where a download of unknown size is stored whole for an HTTP/1.0 client, and how large it may be. */
export interface DownloadStore {
  /** The server's private spool directory. */
  readonly directory: string
  /** `limits.fileSize`. */
  readonly maxBytes: number
}

/**
 * Sends a download (PROTOCOL.md section 7) so that the client can never take a broken one for a whole file:
 *
 * - The status and the download's headers go out only with its first byte. A download that fails before that (its
 *   source cannot be opened, errors at once, or is shorter than its declared size) is answered with an ordinary JSON
 *   error, without `X-Formcall-Download`, `Content-Disposition` or the download's type and length, so a client does
 *   not save the error as the file.
 * - With a declared `size`, exactly that many bytes are sent. A source that has more or fewer fails the response:
 *   extra bytes would be read as the start of the next response on a keep-alive connection, and missing ones would
 *   swallow it. The last chunk waits for the source's end, because once the last declared byte is out the response
 *   looks complete and can no longer be failed.
 * - A response that fails after its first byte is cut: the connection is destroyed, so a sized body arrives short and
 *   a chunked one without its terminating chunk.
 * - An HTTP/1.0 request (nginx's default to its upstreams, `curl --http1.0`) cannot take a chunked body, and a body
 *   without Content-Length ends with the connection, so a cut one would look whole. A download of unknown size is
 *   therefore stored whole first, in the server's private spool directory and up to `limits.fileSize`, and sent with
 *   its Content-Length; a source that fails before its end, or is larger than that, is answered with a JSON error
 *   (see {@link sendStored}).
 *
 * Resolves once the response is under way, with `undefined`; or, for a download that failed before its first byte,
 * with the error to answer instead (nothing has been sent then).
 *
 * @example
 * ```ts
 * const failure = await sendDownload(reply, download, { expose: false })
 * if (failure !== undefined) sendError(reply, id, failure)
 * ```
 */
export async function sendDownload (reply: FastifyReply, download: Download, options: {
  /** Put the source's error message and stack into the error (the server's `exposeErrors`). */
  expose: boolean
}): Promise<RpcError | undefined> {
  if (download.size === undefined && !takesChunked(reply.request.raw)) return await sendStored(reply, download, options)
  let chunks: AsyncGenerator<Buffer, void, undefined>
  let first: IteratorResult<Buffer, void>
  try {
    const body = await download.open()
    // A client that leaves while the source is still silent would otherwise leave the source open until it speaks.
    reply.raw.once('close', () => body.destroy())
    chunks = checkedChunks(body, download.size)
    first = await chunks.next()
  } catch (err) {
    return toRpcError(err, { fromMethod: true, expose: options.expose })
  }
  reply.code(200)
    .header('content-type', download.type)
    .header('content-disposition', formatContentDisposition(download.filename))
    .header(DOWNLOAD_HEADER, '1')
  if (download.size !== undefined) reply.header('content-length', download.size)
  let pending: IteratorResult<Buffer, void> | undefined = first
  const rest: AsyncIterator<Buffer, void, undefined> = {
    next: async () => {
      if (pending !== undefined) {
        const result = pending
        pending = undefined
        return result
      }
      try {
        return await chunks.next()
      } catch (err) {
        // Node holds a response's first writes until the next tick (it corks the socket), and a source that fails at
        // once fails within microtasks: wait a turn, so the client gets the bytes written so far (a short body with
        // the download's headers) rather than a connection that closed with nothing.
        await new Promise((resolve) => setImmediate(resolve))
        // Cut the connection here rather than leave it to Fastify: had the error won the race against the first
        // write, Fastify would answer it with a JSON error under the download's headers and Content-Length. (Without
        // the error: Fastify logs it as the stream's, and a socket destroyed with one reports it again as a client
        // error.)
        reply.raw.destroy()
        throw err
      }
    },
    return: async () => await chunks.return(undefined)
  }
  reply.send(Readable.from({ [Symbol.asyncIterator]: () => rest }, { objectMode: false }))
  return undefined
}

/**
 * Sends a download of unknown size to a client that cannot take a chunked body (HTTP/1.0): the source is read to its
 * end into a temp file (fs-capacitor's: `0600`, in the server's private spool directory, named so that a start of the
 * server removes one left by a process that died) and then sent from it with Content-Length. The file is removed
 * when the response ends however it ends. Resolves like {@link sendDownload}: with the error to answer if the source
 * could not be opened, failed before its end, or had more than `limits.fileSize` bytes (LIMIT_EXCEEDED naming
 * `fileSize`), or if the file could not be written (UNHANDLED); nothing has been sent then.
 */
async function sendStored (reply: FastifyReply, download: Download, options: { expose: boolean }): Promise<RpcError | undefined> {
  const store = (reply.server as unknown as Record<symbol, DownloadStore | undefined>)[DOWNLOAD_STORE] ??
    { directory: tmpdir(), maxBytes: Number.MAX_SAFE_INTEGER }
  const file = new WriteStream({ tmpdir: () => store.directory })
  // Destroyed with the source's error when the source fails; its own (a full disk) when writing fails.
  file.on('error', () => {})
  let body: Readable | undefined
  let sourceFailed = false
  // Until the response ends, however it ends: a client that leaves while the source is still running stops it.
  reply.raw.once('close', () => {
    body?.destroy()
    file.destroy()
  })
  let size = 0
  try {
    body = await download.open()
    const limit = new ByteLimit((bytes) => (size += bytes) <= store.maxBytes, () => new RpcError(ErrorCode.LIMIT_EXCEEDED,
      `the download has no declared size and is larger than limits.fileSize (${store.maxBytes} bytes); to an HTTP/1.0 ` +
      'client, which cannot take a chunked body, such a download is stored whole before it is sent: give download() ' +
      'its size, raise limits.fileSize, or call over HTTP/1.1', { limit: 'fileSize', max: store.maxBytes }))
    const source = body
    await pipeline(async function * () {
      try {
        yield * checkedChunks(source, undefined)
      } catch (err) {
        sourceFailed = true
        throw err
      }
    }, limit, file)
  } catch (err) {
    file.destroy()
    // The source's failure (or its size past the limit) is the method's; the temp file's is the server's.
    return toRpcError(err, { fromMethod: body === undefined || sourceFailed || err instanceof RpcError, expose: options.expose })
  }
  const reader = file.createReadStream({ highWaterMark: DISK_READ_BYTES })
  // The file is removed once this, its one reader, is done (or at once by the 'close' listener above).
  file.release()
  reply.code(200)
    .header('content-type', download.type)
    .header('content-disposition', formatContentDisposition(download.filename))
    .header(DOWNLOAD_HEADER, '1')
    .header('content-length', size)
  reply.send(reader)
  return undefined
}

/** Whether the response to `request` may be chunked: HTTP/1.1 and later (HTTP/2 frames its bodies). */
function takesChunked (request: IncomingMessage): boolean {
  return request.httpVersionMajor > 1 || (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1)
}

/**
 * The source's bytes, checked against the declared size: fails once the source has a byte more than `size`, or ends
 * short of it. The chunk that reaches `size` is held until the source has ended, so a source with extra bytes fails
 * before the response looks complete. The source is destroyed when the generator finishes, however it finishes.
 */
async function * checkedChunks (body: Readable, size: number | undefined): AsyncGenerator<Buffer, void, undefined> {
  try {
    let sent = 0
    let last: Buffer | undefined
    for await (const chunk of body) {
      const bytes = asBuffer(chunk)
      if (bytes.length === 0) continue
      if (size === undefined) {
        yield bytes
        continue
      }
      if (last !== undefined || sent + bytes.length > size) throw sizeMismatch(size, `has more than ${size} bytes`)
      sent += bytes.length
      if (sent === size) last = bytes
      else yield bytes
    }
    if (size !== undefined && sent < size) throw sizeMismatch(size, `ended after ${sent} bytes`)
    if (last !== undefined) yield last
  } finally {
    body.destroy()
  }
}

function sizeMismatch (size: number, what: string): RpcError {
  return new RpcError(ErrorCode.METHOD_RAISED,
    `the download's size was declared as ${size} bytes but its source ${what}; give download() the source's exact ` +
    'size or none (then the download is sent chunked), and do not change a file while downloadFile() sends it')
}

/** A source chunk as bytes: streams in string or object mode (`Readable.from(['text'])`) yield strings. */
function asBuffer (chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (typeof chunk === 'string') return Buffer.from(chunk)
  throw new TypeError(`a download's stream must yield bytes or strings, got ${typeof chunk}`)
}
