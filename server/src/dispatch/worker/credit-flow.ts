import { Readable } from 'node:stream'
import { ACK_EVERY, CREDIT_WINDOW, ownCopy } from './messages.js'

/** How a {@link CreditSender} posts to the other side. */
export interface CreditPost {
  data (chunk: Uint8Array): void
  end (): void
  error (err: Error): void
}

/**
 * Sends a readable's chunks across a MessagePort with credit-based flow control: at most CREDIT_WINDOW chunks are
 * unacknowledged, so a slow reader on the other side slows the source (and, for uploads, the client's socket)
 * instead of filling memory.
 */
export class CreditSender {
  readonly #source: Readable
  #inFlight = 0

  constructor (source: Readable, post: CreditPost) {
    this.#source = source
    source.on('data', (chunk: Buffer) => {
      post.data(ownCopy(chunk))
      if (++this.#inFlight >= CREDIT_WINDOW) source.pause()
    })
    source.once('end', () => post.end())
    source.once('error', (err) => post.error(err))
  }

  /** The other side handed on `n` chunks. */
  ack (n: number): void {
    this.#inFlight -= n
    if (this.#inFlight < CREDIT_WINDOW && this.#source.isPaused()) this.#source.resume()
  }

  /** The other side no longer wants the bytes. */
  cancel (err?: Error): void {
    this.#source.destroy(err)
  }
}

/**
 * The receiving end of a {@link CreditSender}: a Node readable fed by port messages, acking every ACK_EVERY chunks
 * it hands to its reader.
 */
export class CreditReceiver extends Readable {
  readonly #ack: (n: number) => void
  readonly #onDestroy: (err: Error | null) => void
  readonly #queue: Buffer[] = []
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
    this.#queue.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
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
      this.#wanting = this.push(this.#queue.shift())
      if (++this.#handedOn >= ACK_EVERY) {
        this.#ack(this.#handedOn)
        this.#handedOn = 0
      }
    }
    if (this.#queue.length === 0 && this.#ended) this.push(null)
  }

  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.#ended) this.#onDestroy(err)
    callback(err)
  }
}
