/**
 * The buffer, in bytes, of each stream an uploaded part passes through on the server: busboy's input and part
 * streams, the per-part size counter, the stream a method reads. Set explicitly rather than left to Node's default
 * (16 KiB up to Node 20, 64 KiB from Node 22), so that how much of an unread part waits in memory before the parser
 * stops, and so whether a part a method reads out of order is spooled to disk, is the same on every Node version.
 * With Node 24's defaults an unread 200 KiB text part fitted in these buffers (the size counter alone held 125 KiB of
 * it when the next part arrived), so the parser ran past it and it was never spooled; with 16 KiB it holds the
 * parser, as on Node 20.
 *
 * @example
 * ```ts
 * const out = new PassThrough({ highWaterMark: PART_HIGH_WATER_MARK })
 * ```
 */
export const PART_HIGH_WATER_MARK = 16 * 1024
