import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { TransportError } from '../errors.js'

/** How a download body is bounded. */
export interface CheckedBodyOptions {
  /** The `Content-Length`, or `null` for a chunked body. */
  expected: number | null
  /** Aborts the read (the call's signals); the stream fails with its reason. */
  signal: AbortSignal
  /** Names the download in error messages. */
  label: string
  /** Called once when the stream is over, ended or failed: releases the request and its listeners. */
  onClose: () => void
}

/**
 * A download's bytes as a Readable that ends only when the whole body arrived.
 *
 * A server that fails while sending a file aborts the connection (PROTOCOL.md §7.2); the client must then fail, not
 * hand over a short file as if it were whole. Node already errors a response whose connection closes early; this
 * also compares the count against `Content-Length`, and turns each failure into a `network` TransportError that says
 * how much arrived.
 *
 * @example
 * ```ts
 * const stream = new CheckedBody(response, { expected: 1024, signal, label: 'download "a.bin"', onClose })
 * await pipeline(stream, createWriteStream('a.bin')) // rejects if fewer than 1024 bytes arrive
 * ```
 */
export class CheckedBody extends Readable {
  readonly #response: IncomingMessage
  readonly #options: CheckedBodyOptions
  #received = 0

  constructor (response: IncomingMessage, options: CheckedBodyOptions) {
    super()
    this.#response = response
    this.#options = options
    const { signal } = options

    response.on('data', (chunk: Buffer) => {
      this.#received += chunk.length
      if (!this.push(chunk)) response.pause()
    })
    response.once('end', () => {
      if (options.expected !== null && this.#received !== options.expected) this.destroy(this.#cutShort())
      else this.push(null)
    })
    response.on('error', (err) => this.destroy(this.#cutShort(err)))
    response.once('close', () => {
      if (!response.complete) this.destroy(this.#cutShort(response.errored ?? undefined))
    })

    const onAbort = (): void => {
      this.destroy(signal.reason as Error)
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort)
    this.once('close', () => {
      signal.removeEventListener('abort', onAbort)
      options.onClose()
    })
  }

  override _read (): void {
    this.#response.resume()
  }

  override _destroy (err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#response.readableEnded) this.#response.destroy()
    callback(err)
  }

  #cutShort (cause?: Error): TransportError {
    const { expected, label } = this.#options
    const of = expected === null ? '' : ` of ${expected}`
    return new TransportError('network', `${label} was cut short: ${this.#received}${of} bytes arrived before the connection ` +
      'ended; the server failed while sending or the connection broke, retry the call', cause === undefined ? {} : { cause })
  }
}
