import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { DOWNLOAD_HEADER, ErrorCode, formatContentDisposition, RpcError } from '@formcall/spec'
import type { Download } from './download.js'
import { toRpcError } from './envelope.js'

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
