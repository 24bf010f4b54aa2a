import type { IncomingMessage } from 'node:http'
import { TransportError } from '../errors.js'

/** A response body read as text. */
export interface BodyText {
  text: string
  /** `false` when reading stopped at the limit. */
  complete: boolean
}

/**
 * Reads a response body as UTF-8 text, up to `limit` bytes (then stops and drops the connection: a body that large
 * is not an envelope worth reading, e.g. a proxy's error page for a non-JSON type).
 *
 * Rejects with a `network` TransportError when the connection ends before the body does, and with the signal's
 * reason when it aborts.
 *
 * @example
 * ```ts
 * const { text } = await readBody(response, { limit: Infinity, signal, label: 'call "echo"' })
 * ```
 */
export function readBody (response: IncomingMessage, options: { limit: number; signal: AbortSignal; label: string }): Promise<BodyText> {
  const { limit, signal, label } = options
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (outcome: () => void): void => {
      signal.removeEventListener('abort', onAbort)
      response.off('data', onData)
      response.off('end', onEnd)
      response.off('close', onClose)
      outcome()
    }
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk)
      size += chunk.length
      if (size > limit) {
        response.destroy()
        finish(() => resolve({ text: Buffer.concat(chunks).subarray(0, limit).toString('utf8'), complete: false }))
      }
    }
    const onEnd = (): void => finish(() => resolve({ text: Buffer.concat(chunks).toString('utf8'), complete: true }))
    const onClose = (): void => {
      if (response.complete) return // 'end' follows
      finish(() => reject(new TransportError('network', `${label} failed: the connection closed after ${size} bytes of the ` +
        `HTTP ${response.statusCode} response, before it ended`, { status: response.statusCode ?? 0, cause: response.errored ?? undefined })))
    }
    const onAbort = (): void => {
      response.destroy()
      finish(() => reject(signal.reason))
    }
    if (signal.aborted) {
      onAbort()
      return
    }
    signal.addEventListener('abort', onAbort)
    // 'close' reports the failure; an 'error' listener only keeps the process from treating it as unhandled.
    response.on('error', () => {})
    response.on('data', onData)
    response.once('end', onEnd)
    response.once('close', onClose)
  })
}
