import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'

/**
 * The file streams whose chunks no one else holds once the turn they came in is over, so their memory may be handed
 * to a worker thread instead of copied (see CreditSender's `handOver`). A WeakSet rather than a flag on the stream:
 * nothing a method can reach says how its bytes travel, and a stream gone is forgotten.
 */
const exclusive = new WeakSet<Readable>()

/** Marks `stream` as one whose chunks are each the last reference to their memory. */
export function markExclusiveChunks (stream: Readable): void {
  exclusive.add(stream)
}

/** Whether `stream` was marked by {@link markExclusiveChunks}. */
export function hasExclusiveChunks (stream: Readable): boolean {
  return exclusive.has(stream)
}

/**
 * Whether a request body's chunks will be formcall's alone: node:http makes each body chunk a buffer of its own, and
 * while nobody else listens to the body (no 'data' or 'readable' listener, no pipe, nothing read yet; asked before
 * formcall adds its own), once formcall's parser has read a chunk no one else holds it. A hook or plugin that taps
 * the raw request makes every chunk of that request copied instead: the chunks it keeps are never emptied under it.
 */
export function bodyChunksExclusive (body: IncomingMessage): boolean {
  return body.listenerCount('data') === 0 && body.listenerCount('readable') === 0 &&
    body.readableFlowing === null && !body.readableDidRead
}
