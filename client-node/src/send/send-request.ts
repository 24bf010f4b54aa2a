import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { METHOD_HEADER } from '@formcall/spec'
import { TransportError } from '../errors.js'
import type { RequestBody, UploadSources } from '../encode/index.js'
import type { UploadProgress } from '../types.js'
import type { CallScope } from './call-scope.js'
import { readAfterWriteFailure } from './read-after-write-failure.js'
import { UploadProgressReporter } from './upload-progress.js'
import { writeBody } from './write-body.js'

/** Where and how to send one call. */
export interface SendTarget {
  /** The call endpoint. */
  url: URL
  /** The dotted method name, sent in `X-Formcall-Method` for logs and proxies when it is plain ASCII. */
  method: string
  /** The caller's headers, names lower-cased. */
  headers: Record<string, string | string[]>
  agent: http.Agent
  onUploadProgress: ((progress: UploadProgress) => void) | undefined
  /** Names the call in error messages. */
  label: string
}

/** A request that got a response. The upload may still be running (a download can depend on it). */
export interface Exchange {
  readonly response: IncomingMessage
  /** Stops sending the body and destroys its file streams: the server has answered, the rest would be wasted. */
  stopUpload: () => void
  /**
   * Ends the exchange once the response is consumed: stops the upload, drops the connection if the body was cut
   * short (it cannot carry another request), and resolves when the call's file streams are closed.
   */
  close: () => Promise<void>
}

/**
 * Sends a call's request and resolves with the response as soon as its headers arrive, while the body streams.
 *
 * Failures before the response reject: connection errors as a `network` TransportError, a file that cannot be read
 * with its own error, an abort or timeout with the scope's reason. Once a response has arrived it is the answer: a
 * server may answer early (a limit was hit) and then close the connection, so the upload's EPIPE or ECONNRESET is
 * ignored and the response is read, so that the server's RpcError is what the caller sees.
 *
 * @example
 * ```ts
 * const exchange = await sendRequest(body, sources, target, scope)
 * exchange.response.statusCode // 200
 * ```
 */
export function sendRequest (body: RequestBody, sources: UploadSources, target: SendTarget, scope: CallScope): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    if (scope.signal.aborted) {
      void sources.destroy().then(() => reject(scope.signal.reason))
      return
    }

    const headers: http.OutgoingHttpHeaders = { ...target.headers, 'content-type': body.contentType }
    // The body decides its framing; a caller's length or encoding header would contradict it.
    delete headers['content-length']
    delete headers['transfer-encoding']
    if (body.length !== null) headers['content-length'] = body.length
    // Informational, so only sent when the name is plain ASCII (a header cannot carry every JSON string).
    if (/^[\x21-\x7e]+$/.test(target.method)) headers[METHOD_HEADER] = target.method
    const transport = target.url.protocol === 'https:' ? https : http
    const request = transport.request(target.url, { method: 'POST', headers, agent: target.agent })
    const stop = new AbortController()
    let response: IncomingMessage | undefined
    let failed = false
    // Set when the server closed the connection under the upload; the answer it may have sent is still read.
    let writeFailure: NodeJS.ErrnoException | undefined
    readAfterWriteFailure(request, (err) => {
      writeFailure = err
      stop.abort()
    })

    const failBeforeResponse = (error: unknown): void => {
      if (response !== undefined || failed) return
      failed = true
      scope.signal.removeEventListener('abort', onAbort)
      stop.abort()
      request.destroy()
      void sources.destroy().then(() => reject(error))
    }
    const onAbort = (): void => failBeforeResponse(scope.signal.reason)
    scope.signal.addEventListener('abort', onAbort)

    const stopUpload = (): void => {
      if (request.writableFinished || stop.signal.aborted) return
      stop.abort()
      void sources.destroy()
    }
    const close = (): Promise<void> => {
      stopUpload()
      if (!request.writableFinished) request.destroy()
      return sources.destroy()
    }

    // After a response, the request's own errors (EPIPE, ECONNRESET from the upload) are not the answer.
    // If the connection then ends without an answer, the write failure says more than the read side's "socket hang up".
    request.on('error', (err) => failBeforeResponse(connectionError(writeFailure ?? err, target)))
    request.once('response', (res) => {
      if (failed) {
        res.destroy()
        return
      }
      response = res
      scope.signal.removeEventListener('abort', onAbort)
      resolve({ response: res, stopUpload, close })
    })

    // A file that fails to read after the response started (a download fed by the upload) fails that response.
    const failUpload = (error: Error): void => {
      if (stop.signal.aborted) return
      if (response === undefined) {
        failBeforeResponse(error)
      } else {
        stop.abort()
        request.destroy()
        response.destroy(error)
      }
    }
    sources.onError(failUpload)

    const progress = new UploadProgressReporter(body.length, target.onUploadProgress, (err) => scope.fail(err))
    writeBody(request, body.payload, progress, stop.signal).catch((err: unknown) => {
      failUpload(sources.error ?? (err as Error))
    })
  })
}

/** A connection-level failure, with what to check. */
function connectionError (err: NodeJS.ErrnoException, target: SendTarget): TransportError {
  const where = target.url.host
  const hint = err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
    ? `could not connect to ${where}: ${err.message}; check that the server is running and the URL is right`
    : err.syscall === 'write'
      ? `${where} closed the connection while the request was being sent (${err.message}) and sent no answer; ` +
        'it may refuse bodies this large, or have restarted'
      : `the connection to ${where} failed: ${err.message}`
  return new TransportError('network', `${target.label} failed: ${hint}`, { cause: err })
}
