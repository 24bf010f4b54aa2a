import type { ClientRequest } from 'node:http'
import type { Readable } from 'node:stream'
import { WriteGatherer } from './write-gatherer.js'
import type { UploadProgressReporter } from './upload-progress.js'

/**
 * Writes a request body, honouring backpressure, and reports progress as chunks are flushed to the socket (the write
 * callback), not merely queued.
 *
 * Resolves `true` once the whole body was handed to the socket, `false` when it stopped early: `stop` aborted (the
 * server already answered) or the request was destroyed. Rejects when the body stream fails; the caller knows
 * which file that was.
 *
 * @example
 * ```ts
 * const complete = await writeBody(request, body.payload, progress, stop.signal)
 * ```
 */
export async function writeBody (request: ClientRequest, payload: Buffer | Readable, progress: UploadProgressReporter, stop: AbortSignal): Promise<boolean> {
  const write = (chunk: Buffer): boolean => request.write(chunk, (err) => {
    if (err == null) progress.add(chunk.length)
  })

  if (Buffer.isBuffer(payload)) {
    write(payload)
  } else {
    try {
      const gather = new WriteGatherer()
      for await (const chunk of payload) {
        if (stop.aborted || request.destroyed) return false
        if (!gather.write(request, chunk as Uint8Array, payload, progress) && !(await drained(request, stop))) return false
      }
    } catch (err) {
      // Stopping destroys the sources, which ends the iteration with an error that is not a failure.
      if (stop.aborted || request.destroyed) return false
      throw err
    }
  }
  if (stop.aborted || request.destroyed) return false
  request.end()
  if (!(await finished(request))) return false
  progress.complete()
  return true
}

/** Waits for room in the request's buffer; `false` if the request closed or the upload was stopped meanwhile. */
function drained (request: ClientRequest, stop: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (ok: boolean) => () => {
      request.off('drain', onDrain)
      request.off('close', onClose)
      stop.removeEventListener('abort', onStop)
      resolve(ok)
    }
    const onDrain = settle(true)
    const onClose = settle(false)
    const onStop = settle(false)
    request.on('drain', onDrain)
    request.on('close', onClose)
    stop.addEventListener('abort', onStop)
  })
}

/** Waits until the last byte was flushed (`finish`); `false` if the request closed first. */
function finished (request: ClientRequest): Promise<boolean> {
  if (request.writableFinished) return Promise.resolve(true)
  return new Promise((resolve) => {
    const onFinish = (): void => { request.off('close', onClose); resolve(true) }
    const onClose = (): void => { request.off('finish', onFinish); resolve(request.writableFinished) }
    request.once('finish', onFinish)
    request.once('close', onClose)
  })
}
