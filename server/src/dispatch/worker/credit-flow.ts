import { Readable } from 'node:stream'

/**
 * Bytes a {@link CreditSender} gathers into one message at most, so a message (transfer, a wake-up and a message event
 * on the other side, an ack's share) serves many parser chunks of 16–64 KiB instead of one. Measured with 1 GiB
 * uploads to a worker-mode server: against 256 KiB, 1 MiB took the server's CPU from 173–259 to 128–183 ticks per
 * GiB, most of it on the main thread, which posts the messages; 2 MiB gained nothing more.
 */
export const BATCH_BYTES = 1024 * 1024
/**
 * Credit the sender may have unacknowledged before it pauses its source: a few batches, so the reader always has the
 * next batch queued while it reads one.
 */
export const CREDIT_WINDOW_BYTES = 4 * BATCH_BYTES
/**
 * The receiver acks once it handed on this much credit. It must not exceed the window: a paused sender has flushed and
 * holds at least CREDIT_WINDOW_BYTES unacknowledged, so a receiver that handed everything on has acked all but less
 * than ACK_BYTES of it, and the sender has resumed; no credit can sit on the receiver's side while the sender waits.
 * (An ack each time the receiver runs dry would double the messages when the reader is the faster side.)
 */
export const ACK_BYTES = CREDIT_WINDOW_BYTES / 2
/**
 * The least credit a message costs, whatever its size: a trickle of tiny messages to a reader that does not read is
 * bounded in messages (CREDIT_WINDOW_BYTES / MESSAGE_COST, 256), not only in bytes.
 */
export const MESSAGE_COST = CREDIT_WINDOW_BYTES / 256

/**
 * The credit a posted chunk costs, computed alike by sender and receiver: the memory it holds (its whole ArrayBuffer),
 * at least {@link MESSAGE_COST}. The number `ack(n)` carries is a sum of these.
 */
export function creditCost (chunk: Uint8Array): number {
  return Math.max(chunk.buffer.byteLength, MESSAGE_COST)
}

/** How a {@link CreditSender} posts to the other side. */
export interface CreditPost {
  /** A chunk in an ArrayBuffer of its own (offset 0), to transfer: `chunk.buffer` goes in the transfer list. */
  data (chunk: Uint8Array): void
  end (): void
  error (err: Error): void
}

/**
 * Sends a readable's bytes across a MessagePort with credit-based flow control.
 *
 * The chunks of a turn are gathered (by reference, as any reader that buffers holds them) and copied once, into a
 * message of exactly their size, when they reach BATCH_BYTES, when the source ends or the sender pauses it, and
 * otherwise at the end of the event-loop turn (setImmediate), so bytes never wait in the sender for more bytes. A
 * chunk larger than a batch is posted alone, as its own copy. The source is paused while the credit
 * of unacknowledged messages plus the pending batch reaches CREDIT_WINDOW_BYTES, so a slow reader on the other side
 * slows the source (and, for uploads, the client's socket) instead of filling memory: unacknowledged bytes stay under
 * CREDIT_WINDOW_BYTES + one chunk (a batch, for chunks no larger).
 *
 * An error of the source drops the pending batch and posts the error; a source closed before its end without an error
 * (destroyed by someone else) posts an error too, so the reader never sees a truncated stream end as if complete.
 *
 * Why messages and not a ring in a SharedArrayBuffer (bytes copied in, `Atomics.notify`, copied out by the
 * reader): a post with a transfer costs about 20 µs of CPU against 2–3 µs for a notify, yet the ring, built and
 * measured, was no cheaper end to end: 1 GiB of 64 KiB chunks between two threads took 1.17–1.56 s of CPU against
 * 1.25–1.40 s here, and three 1 GiB uploads to a worker-mode server 7.7–10.2 s of server CPU against 5.9–7.5 s,
 * with up to 8 times the page faults. The reader's copy into fresh buffers for the method (which owns its chunks)
 * costs what the posts saved.
 */
export class CreditSender {
  readonly #source: Readable
  readonly #post: CreditPost
  /** The chunks gathered for the next message, and their bytes. */
  #pending: Uint8Array[] = []
  #pendingBytes = 0
  /** The end-of-turn flush, scheduled when the turn's first bytes came. */
  #turn: NodeJS.Immediate | undefined
  /** Credit of posted, unacknowledged messages. */
  #inFlight = 0
  /** The sender paused the source (out of credit). */
  #paused = false
  /** End or error posted. */
  #finished = false
  #cancelled = false

  constructor (source: Readable, post: CreditPost) {
    this.#source = source
    this.#post = post
    source.on('data', (chunk: unknown) => this.#take(chunk))
    source.once('end', () => {
      if (this.#finished || this.#cancelled) return
      this.#flush()
      this.#endTurn()
      this.#finished = true
      post.end()
    })
    source.once('error', (err) => this.#fail(err))
    source.once('close', () => {
      if (!this.#finished && !this.#cancelled) this.#fail(new Error('the stream closed before its end'))
    })
  }

  /** The other side handed on messages worth `n` credit (see {@link creditCost}). */
  ack (n: number): void {
    this.#inFlight -= n
    if (this.#paused && !this.#finished && !this.#cancelled && this.#inFlight + this.#pendingBytes < CREDIT_WINDOW_BYTES) {
      this.#paused = false
      this.#source.resume()
    }
  }

  /** The other side no longer wants the bytes: drops the pending ones and destroys the source. */
  cancel (err?: Error): void {
    this.#cancelled = true
    this.#drop()
    this.#source.destroy(err)
  }

  #take (data: unknown): void {
    if (this.#finished || this.#cancelled) return
    const chunk = asBytes(data)
    if (chunk === undefined) {
      this.#source.destroy(new TypeError(`the stream must yield bytes or strings, got ${typeof data}`))
      return
    }
    const size = chunk.byteLength
    if (size === 0) return
    // A message holds at most a batch, or one larger chunk alone.
    if (this.#pendingBytes + size > BATCH_BYTES) this.#flush()
    this.#pending.push(chunk)
    this.#pendingBytes += size
    if (this.#pendingBytes >= BATCH_BYTES) {
      this.#flush()
    } else if (this.#turn === undefined) {
      // The turn's first bytes to wait: they are posted at its end at the latest.
      this.#turn = setImmediate(() => {
        this.#turn = undefined
        this.#flush()
      })
    }
    if (this.#inFlight + this.#pendingBytes >= CREDIT_WINDOW_BYTES) {
      this.#paused = true
      this.#source.pause()
      // No more bytes come until an ack: the pending ones need not wait for the turn's end.
      this.#flush()
    }
  }

  /** Posts the pending bytes, if any, as one copy of exactly their size (transferred: no memory beyond them travels). */
  #flush (): void {
    const size = this.#pendingBytes
    if (size === 0) return
    const pending = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    const message = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size)
    let at = 0
    for (const chunk of pending) {
      message.set(chunk, at)
      at += chunk.byteLength
    }
    this.#send(message)
  }

  #send (chunk: Uint8Array): void {
    this.#inFlight += creditCost(chunk)
    this.#post.data(chunk)
  }

  #endTurn (): void {
    if (this.#turn !== undefined) {
      clearImmediate(this.#turn)
      this.#turn = undefined
    }
  }

  #drop (): void {
    this.#endTurn()
    this.#pending = []
    this.#pendingBytes = 0
  }

  #fail (err: Error): void {
    if (this.#finished) return
    // The pending bytes are dropped: the reader sees the error right after the bytes it already has.
    this.#drop()
    this.#finished = true
    this.#post.error(err)
  }
}

/** A source's chunk as bytes: streams in string or object mode (`Readable.from(['text'])`) yield strings. */
function asBytes (data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string') return Buffer.from(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return undefined
}

/**
 * Gives V8 the moment it looks for to collect the young generation's array buffers early.
 *
 * V8 (11.x, Node 20) schedules a young-generation collection when an array buffer is allocated while the young
 * generation's buffers hold twice a semi-space; buffers that arrive transferred are never allocated in this isolate,
 * so a thread that only receives them (a worker reading an upload) collects them only when their external memory
 * forces a full mark-compact, every 64 MiB. Those dead batches are memory the process holds: in a worker-mode
 * server, 1 GiB uploaded in 256 KiB batches grew the server's RSS by 107 MiB with 48 mark-compacts in the worker,
 * and by 66 MiB with scavenges instead when each received chunk allocated this one-byte buffer; server CPU did not
 * change (6.87 s and 7.03 s for 3 GiB). On Node 24 (V8 13) the same measurement showed no difference either way: there
 * it costs one small allocation per chunk.
 */
function offerYoungCollection (): void {
  // Kept, so that no optimizer drops the allocation as unused.
  youngOffer.last = new ArrayBuffer(1)
}
const youngOffer: { last: ArrayBuffer | undefined } = { last: undefined }

/**
 * The receiving end of a {@link CreditSender}: a Node readable fed by port messages. It pushes each chunk as a Buffer
 * viewing the transferred ArrayBuffer (no copy), stops pushing while push() says its reader has enough, and acks the
 * credit of what it handed on each time that reaches ACK_BYTES (see there why that never leaves the sender waiting).
 */
export class CreditReceiver extends Readable {
  readonly #ack: (n: number) => void
  readonly #onDestroy: (err: Error | null) => void
  #queue: Buffer[] = []
  #wanting = false
  #ended = false
  #handedOn = 0

  constructor (ack: (n: number) => void, onDestroy: (err: Error | null) => void = () => {}) {
    super()
    this.#ack = ack
    this.#onDestroy = onDestroy
  }

  /** Every chunk has arrived (some may still wait for the reader). */
  get complete (): boolean { return this.#ended }

  /** A chunk arrived. */
  receive (chunk: Uint8Array): void {
    if (this.destroyed) return
    this.#queue.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    offerYoungCollection()
    if (this.#wanting) this._read()
  }

  /** The sender's source ended. */
  finish (): void {
    this.#ended = true
    if (this.#wanting) this._read()
  }

  override _read (): void {
    this.#wanting = true
    while (this.#wanting && this.#queue.length > 0) {
      const chunk = this.#queue.shift() as Buffer
      this.#handedOn += creditCost(chunk)
      this.#wanting = this.push(chunk)
      if (this.#handedOn >= ACK_BYTES) this.#sendAck()
    }
    if (this.#queue.length === 0 && this.#ended) this.push(null)
  }

  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    this.#queue = []
    if (!this.#ended) this.#onDestroy(err)
    callback(err)
  }

  #sendAck (): void {
    const n = this.#handedOn
    this.#handedOn = 0
    this.#ack(n)
  }
}
