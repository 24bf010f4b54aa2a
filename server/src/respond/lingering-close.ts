import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

/** The longest a refused body is read and thrown away after its answer (nginx's `lingering_time` is also 30 s). */
export const LINGER_MS = 30_000
/** A client that sends nothing for this long after its answer is done sending (nginx's `lingering_timeout`). */
export const LINGER_IDLE_MS = 5_000

/** The bounds of one lingering close. */
export interface LingerBounds {
  /** Milliseconds from the answer to the cut, at most. */
  ms: number
  /** Milliseconds without a byte from the client that end the lingering. */
  idleMs: number
}

const lingering = new WeakSet<Socket>()

/**
 * Makes an answer sent before the request body ended reach the client, then closes the connection: a lingering
 * close, as Apache and nginx do it.
 *
 * Why: for a `Connection: close` response Node calls `socket.destroySoon()` once the response is written, and the
 * socket closes with the rest of the body unread. The kernel answers unread bytes with a TCP reset, and a client
 * still sending gets the reset instead of the answer: curl fails with "Send failure: Broken pipe", nginx logs
 * "writev() failed", answers 502 in our place and counts the instance as failed. So `destroySoon` is replaced for
 * this one connection: once the answer is written the server half-closes (FIN after the answer) and reads and
 * discards the body until the client stops sending (its FIN, or {@link LINGER_IDLE_MS} of silence) or
 * {@link LINGER_MS} have passed. curl, Node and nginx stop sending when they read the answer, so this is short for
 * them; Chromium sends the whole body before it reads any answer, and a reset before that loses the answer, so there
 * is deliberately no byte bound — time bounds what a refused client can make the server read. Past the bound a
 * client still sending is cut off, its answer flushed long before.
 *
 * Call it before the answer is sent; the caller sends `Connection: close`.
 */
export function lingerAfterAnswer (request: IncomingMessage, bounds: LingerBounds = { ms: LINGER_MS, idleMs: LINGER_IDLE_MS }): void {
  const socket = request.socket
  if (socket === null || socket.destroyed || lingering.has(socket)) return
  lingering.add(socket)
  let idle: NodeJS.Timeout | undefined
  let deadline: NodeJS.Timeout | undefined
  let answered = false
  const cut = (): void => { socket.destroy() }
  request.on('data', () => idle?.refresh())
  request.resume()
  // A client that closes its side after the answer was written has read it (or never will): the lingering ends. One
  // that closed its side before (it sent its whole body, then shut down writing) still gets the answer written.
  socket.once('end', () => { if (answered) cut() })
  socket.once('close', () => {
    clearTimeout(idle)
    clearTimeout(deadline)
  })
  socket.destroySoon = function lingeringClose (this: Socket): void {
    // Node calls this when the `Connection: close` answer has been written: the bounds start now.
    answered = true
    if (this.readableEnded) {
      // Nothing more can arrive: close as Node would, once the answer is flushed.
      this.end(() => this.destroy())
      return
    }
    deadline = setTimeout(cut, bounds.ms)
    idle = setTimeout(cut, bounds.idleMs)
    deadline.unref()
    idle.unref()
    this.end()
  }
}
