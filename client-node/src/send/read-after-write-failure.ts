import type { ClientRequest } from 'node:http'
import type { Socket } from 'node:net'

/** Write errors that mean the server closed the connection; it may have answered first. */
const PEER_CLOSED = new Set(['EPIPE', 'ECONNRESET', 'ECONNABORTED'])

type WriteCallback = (error?: Error | null) => void

/**
 * Keeps a request's socket reading after a write fails because the server closed the connection.
 *
 * A server that refuses an upload midway (a size limit) answers at once and may then close the connection while
 * the client is still writing. Its answer is already in the client's kernel buffer, but the next write fails with
 * EPIPE or ECONNRESET, and Node then marks the socket failed and destroys it before reading those bytes: the caller
 * would see "write EPIPE" instead of the server's `RpcError`.
 *
 * So for this request's lifetime, such a write error is taken off the socket and handed to `onWriteFailed`, which
 * stops the upload; the socket keeps reading, and the read side ends by itself within an event-loop turn (the
 * answer, then EOF or ECONNRESET from the read), through Node's usual paths. Other write errors, read errors and
 * destroys (abort, timeout) are untouched. The socket is never reused: the upload did not finish. (The swallowed
 * writes report success to their callbacks, which can only overstate the progress of an upload being abandoned.)
 *
 * @example
 * ```ts
 * const request = http.request(url, { method: 'POST' })
 * readAfterWriteFailure(request, (err) => stopUpload(err))
 * ```
 */
export function readAfterWriteFailure (request: ClientRequest, onWriteFailed: (error: NodeJS.ErrnoException) => void): void {
  request.once('socket', (socket: Socket) => {
    const { _write: write, _writev: writev } = socket
    let failed = false
    const guard = (callback: WriteCallback): WriteCallback => (error) => {
      const code = (error as NodeJS.ErrnoException | null | undefined)?.code
      if (code === undefined || !PEER_CLOSED.has(code)) {
        callback(error)
        return
      }
      if (!failed) {
        failed = true
        onWriteFailed(error as NodeJS.ErrnoException)
      }
      callback()
    }
    socket._write = function (chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void {
      write.call(this, chunk, encoding, guard(callback))
    }
    if (writev !== undefined) {
      socket._writev = function (chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, callback: WriteCallback): void {
        writev.call(this, chunks, guard(callback))
      }
    }
    // A kept-alive socket goes on to serve other requests, with its own methods.
    const restore = (): void => {
      socket._write = write
      if (writev !== undefined) socket._writev = writev
    }
    socket.once('free', restore)
    request.once('close', restore)
  })
}
