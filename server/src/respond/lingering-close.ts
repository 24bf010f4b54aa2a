import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

/** Bytes of an abandoned body read and thrown away after the answer, before the connection is cut. */
export const LINGER_BYTES = 16 * 1024 * 1024
/** Milliseconds an abandoned body is read and thrown away after the answer, before the connection is cut. */
export const LINGER_MS = 5_000

const lingering = new WeakSet<Socket>()

/**
 * Makes an answer sent before the request body ended reach the client, then closes the connection: a lingering
 * close, as Apache and nginx do it.
 *
 * Why it is needed: for a `Connection: close` response Node calls `socket.destroySoon()` once the response is
 * written, and the socket is closed with the rest of the body still unread. The kernel answers unread bytes with a
 * TCP reset, and a client still sending its body gets the reset instead of (or before it reads) the answer: curl
 * fails with "Send failure: Broken pipe", a proxy such as nginx logs "writev() failed" and answers 502 in our place
 * and counts the instance as failed. Here the socket's `destroySoon` is replaced for this one connection: once the
 * answer is written, the server half-closes (FIN after the answer, so the client reads the answer and then end of
 * stream) and keeps reading and discarding the body until the client stops sending or closes, for at most
 * {@link LINGER_BYTES} and {@link LINGER_MS}. Past that bound a client that keeps sending is cut off — after its
 * answer was flushed.
 *
 * Call it before the answer is sent; it sets nothing on the response itself (the caller sends `Connection: close`).
 */
export function lingerAfterAnswer (request: IncomingMessage, bounds: { bytes: number, ms: number } = {
  bytes: LINGER_BYTES,
  ms: LINGER_MS
}): void {
  const socket = request.socket
  if (socket === null || socket.destroyed || lingering.has(socket)) return
  lingering.add(socket)
  let discarded = 0
  let timer: NodeJS.Timeout | undefined
  const cut = (): void => { socket.destroy() }
  request.on('data', (chunk: Buffer) => {
    discarded += chunk.length
    if (discarded > bounds.bytes) cut()
  })
  request.resume()
  // A client that has read the answer and closes its side ends the lingering at once.
  socket.once('end', cut)
  socket.once('close', () => clearTimeout(timer))
  socket.destroySoon = function lingeringClose (this: Socket): void {
    // Node calls this when the `Connection: close` answer has been written. The bound starts now: the body read
    // before the answer does not count against the time a client gets to read it.
    timer = setTimeout(cut, bounds.ms)
    timer.unref()
    this.end()
  }
}
