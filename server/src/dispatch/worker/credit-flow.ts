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

/**
 * The least size of a chunk a {@link CreditSender} hands over (transfers) rather than copies: below it, a chunk's credit
 * ({@link MESSAGE_COST}) is more than its bytes, and copying it together with its neighbours costs less than a
 * transfer of its own.
 */
export const MIN_HANDOVER_BYTES = MESSAGE_COST

/** How a {@link CreditSender} posts to the other side. */
export interface CreditPost {
  /**
   * A message's chunks, each in an ArrayBuffer no one else holds: `transfer` lists those buffers, for the transfer
   * list of the post.
   */
  data (chunks: Uint8Array[], transfer: ArrayBuffer[]): void
  end (): void
  error (err: Error): void
}

/** What a {@link CreditSender} may do with its source's memory. */
export interface CreditSenderOptions {
  /**
   * The source's chunks are each the last reference to their memory once the turn they came in is over (a request
   * body's buffers, as node:http makes them, that nothing else listens to): a chunk filling its whole ArrayBuffer, of
   * at least {@link MIN_HANDOVER_BYTES}, is then handed over (transferred) instead of copied. Off by default: a chunk
   * someone else still holds would be emptied under them.
   */
  handOver?: boolean
}

/**
 * Sends a readable's bytes across a MessagePort with credit-based flow control.
 *
 * The chunks of a turn are gathered (by reference, as any reader that buffers holds them) and posted in messages of up
 * to BATCH_BYTES: when they reach a batch, when the source ends or the sender pauses it, and otherwise at the end of
 * the event-loop turn (setImmediate), so bytes never wait in the sender for more bytes. Chunks are copied, a run of
 * them into one buffer of exactly their size; a chunk larger than a batch is posted alone, as its own copy. With
 * {@link CreditSenderOptions.handOver}, chunks that own their memory are transferred instead, and nothing is posted
 * before the end of the turn the chunks came in (see {@link CreditSender.#take}).
 *
 * The source is paused while the credit of unacknowledged messages plus the pending chunks reaches
 * CREDIT_WINDOW_BYTES, so a slow reader on the other side slows the source (and, for uploads, the client's socket)
 * instead of filling memory: unacknowledged bytes stay under CREDIT_WINDOW_BYTES + one chunk (a batch, for chunks no
 * larger).
 *
 * An error of the source drops the pending chunks and posts the error; a source closed before its end without an error
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
  readonly #handOver: boolean
  /** The chunks gathered for the next messages, and their bytes. */
  #pending: Uint8Array[] = []
  #pendingBytes = 0
  /** The end-of-turn flush, scheduled when the turn's first bytes came. */
  #turn: NodeJS.Immediate | undefined
  /** The source ended while the turn's chunks wait: the end is posted after them. */
  #endAfterTurn = false
  /** Credit of posted, unacknowledged messages. */
  #inFlight = 0
  /** The sender paused the source (out of credit). */
  #paused = false
  /** End or error posted. */
  #finished = false
  #cancelled = false

  constructor (source: Readable, post: CreditPost, options: CreditSenderOptions = {}) {
    this.#source = source
    this.#post = post
    this.#handOver = options.handOver === true
    source.on('data', (chunk: unknown) => this.#take(chunk))
    source.once('end', () => {
      if (this.#finished || this.#cancelled) return
      if (this.#handOver && this.#turn !== undefined) {
        this.#endAfterTurn = true
        return
      }
      this.#flush()
      this.#endTurn()
      this.#finish()
    })
    source.once('error', (err) => this.#fail(err))
    source.once('close', () => {
      if (!this.#finished && !this.#cancelled && !this.#endAfterTurn) this.#fail(new Error('the stream closed before its end'))
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

  /**
   * Gathers a chunk. A chunk to hand over is still in use by whoever emitted it (a parser reads on in the same
   * buffer, a later 'data' listener reads its length), so with `handOver` every flush waits for the end of the turn,
   * when every synchronous reader is done with the turn's chunks; the credit window still bounds what waits.
   */
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
    if (this.#pendingBytes + size > BATCH_BYTES) this.#flushNow()
    this.#pending.push(chunk)
    this.#pendingBytes += size
    if (this.#pendingBytes >= BATCH_BYTES) this.#flushNow()
    if (this.#pendingBytes > 0 && this.#turn === undefined) {
      // The turn's first bytes to wait: they are posted at its end at the latest.
      this.#turn = setImmediate(() => {
        this.#turn = undefined
        this.#flush()
        if (this.#endAfterTurn) this.#finish()
      })
    }
    if (this.#inFlight + this.#pendingBytes >= CREDIT_WINDOW_BYTES) {
      this.#paused = true
      this.#source.pause()
      // No more bytes come until an ack: the pending ones need not wait for the turn's end.
      this.#flushNow()
    }
  }

  /** Flushes now, unless chunks may be handed over: then only at the end of the turn. */
  #flushNow (): void {
    if (!this.#handOver) this.#flush()
  }

  /**
   * Posts the pending chunks in messages of up to a batch: those to hand over as they are, each run of the others as
   * one copy of exactly its size (transferred: no memory beyond the bytes travels).
   */
  #flush (): void {
    if (this.#pendingBytes === 0) return
    const pending = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    const message = new OutgoingMessage()
    for (const chunk of pending) {
      if (message.bytes + chunk.byteLength > BATCH_BYTES) this.#send(message.close())
      if (this.#handOver && ownsItsBuffer(chunk)) message.handOver(chunk)
      else message.copy(chunk)
    }
    this.#send(message.close())
  }

  #send (message: MessageParts): void {
    if (message.chunks.length === 0) return
    for (const chunk of message.chunks) this.#inFlight += creditCost(chunk)
    this.#post.data(message.chunks, message.transfer)
  }

  #finish (): void {
    this.#finished = true
    this.#post.end()
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
    this.#endAfterTurn = false
    this.#finished = true
    this.#post.error(err)
  }
}

/** Whether a chunk is its whole ArrayBuffer (not a slice of a pool or of a larger read), large enough to hand over. */
function ownsItsBuffer (chunk: Uint8Array): boolean {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength &&
    chunk.byteLength >= MIN_HANDOVER_BYTES && !(chunk.buffer instanceof SharedArrayBuffer)
}

/** A message's chunks, and their buffers for the post's transfer list. */
interface MessageParts { chunks: Uint8Array[], transfer: ArrayBuffer[] }

/** One message being put together: chunks handed over as they are, runs of copied ones each in one buffer. */
class OutgoingMessage {
  /** Bytes of every chunk given to the message, copied or not. */
  bytes = 0
  #chunks: Uint8Array[] = []
  #transfer: ArrayBuffer[] = []
  /** The run of chunks to copy, not yet copied. */
  #run: Uint8Array[] = []
  #runBytes = 0

  handOver (chunk: Uint8Array): void {
    this.bytes += chunk.byteLength
    this.#copyRun()
    this.#add(chunk)
  }

  copy (chunk: Uint8Array): void {
    this.#run.push(chunk)
    this.#runBytes += chunk.byteLength
    this.bytes += chunk.byteLength
  }

  /** The message's chunks and their buffers; the message starts over, empty. */
  close (): MessageParts {
    this.#copyRun()
    const closed = { chunks: this.#chunks, transfer: this.#transfer }
    this.#chunks = []
    this.#transfer = []
    this.bytes = 0
    return closed
  }

  #copyRun (): void {
    const size = this.#runBytes
    if (size === 0) return
    const copy = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size)
    let at = 0
    for (const chunk of this.#run) {
      copy.set(chunk, at)
      at += chunk.byteLength
    }
    this.#run = []
    this.#runBytes = 0
    this.#add(copy)
  }

  #add (chunk: Uint8Array): void {
    this.#chunks.push(chunk)
    this.#transfer.push(chunk.buffer as ArrayBuffer)
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

  /** A message's chunks arrived. */
  receive (chunks: readonly Uint8Array[]): void {
    if (this.destroyed) return
    for (const chunk of chunks) this.#queue.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
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
