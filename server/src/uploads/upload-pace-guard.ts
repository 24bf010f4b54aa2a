import type { IncomingMessage } from 'node:http'

/**
 * Cuts a tus request whose body stalls or trickles: in each window of `window` ms the client must send at least
 * `minRate` bytes per second on average (and at least one byte), the rule the call endpoint applies to multipart
 * bodies (`idleUploadTimeout`, `minUploadRate`). Without it a client could hold a connection open forever with a
 * PATCH that sends a byte now and then. The cut is harmless to an honest client: the bytes that arrived are kept and
 * it resumes from there.
 *
 * It reads the socket's byte count once per window, so it neither touches the body stream nor costs anything per
 * chunk. A window in which the server itself is not reading (the body's buffer is full: the disk is slower than the
 * client) is not held against the client.
 *
 * @example
 * ```ts
 * guardUploadPace(request.raw, { window: 30_000, minRate: 1024 })
 * ```
 */
export function guardUploadPace (request: IncomingMessage, pace: { window: number, minRate: number }): void {
  const { socket } = request
  if (pace.window <= 0 || request.complete || socket === null) return
  const atLeast = Math.max(1, Math.floor(pace.minRate * pace.window / 1000))
  let seen = socket.bytesRead
  const timer = setInterval(() => {
    if (request.complete || socket.destroyed) {
      clearInterval(timer)
      return
    }
    const read = socket.bytesRead
    const held = request.readableLength >= request.readableHighWaterMark
    if (read - seen < atLeast && !held) {
      clearInterval(timer)
      socket.destroy()
      return
    }
    seen = read
  }, pace.window)
  timer.unref()
  const stop = (): void => clearInterval(timer)
  request.once('end', stop)
  request.once('close', stop)
}
