import type { ResolvedCallOptions } from '../call-options.js'
import { TransportError } from '../errors.js'
import type { EncodedCall } from '../encode/index.js'

/**
 * What came back over HTTP, before it is read as an envelope or a download.
 *
 * @example
 * ```ts
 * const isDownload = answer.header('x-formcall-download') !== null
 * ```
 */
export interface HttpAnswer {
  status: number
  /** A response header, or `null` when absent (or not exposed to a cross-origin page). */
  header: (name: string) => string | null
  body: Blob
}

/**
 * POSTs an encoded call with XMLHttpRequest and resolves with the HTTP answer, whatever its status; rejects with
 * `TransportError` when no answer arrives (network failure, timeout, abort).
 *
 * Why XMLHttpRequest and not fetch: fetch reports no upload progress, and the streaming request bodies that could
 * stand in for it are only sent over HTTP/2 (and need `duplex: 'half'`), so a plain HTTP/1.1 server would never see
 * them. XHR's `upload` events report progress on every browser and protocol.
 *
 * @example
 * ```ts
 * const answer = await sendRequest('/rpc', encodeCall({ id: 1, method: 'echo', params: ['hi'] }), options, 'echo')
 * answer.status // 200
 * ```
 */
export function sendRequest (url: string, request: EncodedCall, options: ResolvedCallOptions, method: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const alreadyAborted = options.signals.find((signal) => signal.aborted)
    if (alreadyAborted !== undefined) {
      reject(abortedError(method, alreadyAborted.reason))
      return
    }

    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    // A Blob holds a download of any size without decoding it; JSON answers are read from it as text.
    xhr.responseType = 'blob'
    xhr.timeout = options.timeout
    xhr.withCredentials = options.withCredentials
    options.headers.forEach((value, name) => {
      // The encoding decides the content type: a caller's one would, for multipart, lose the boundary.
      if (name === 'content-type') return
      // Each call appends, so a list of values goes out as one comma-joined header, as Headers would send it.
      for (const item of typeof value === 'string' ? [value] : value) xhr.setRequestHeader(name, item)
    })
    if (request.contentType !== null) xhr.setRequestHeader('content-type', request.contentType)

    // Registered only when asked for: an upload listener turns a cross-origin call into a preflighted one.
    const report = options.onUploadProgress
    if (report !== undefined) {
      xhr.upload.addEventListener('progress', (event) => { report({ loaded: event.loaded, total: event.total }) })
    }

    xhr.addEventListener('load', () => {
      resolve({ status: xhr.status, header: (name) => xhr.getResponseHeader(name), body: xhr.response as Blob })
    })
    xhr.addEventListener('error', () => {
      reject(new TransportError('network',
        `call "${method}" to ${url} got no complete HTTP answer: the network is down, the connection broke ` +
        '(also mid-download), or the server does not allow this cross-origin call (CORS)'))
    })
    xhr.addEventListener('timeout', () => {
      reject(new TransportError('timeout',
        `call "${method}" got no answer within ${options.timeout} ms; raise the timeout option if the call is expected to take longer`))
    })
    let abortReason: unknown
    xhr.addEventListener('abort', () => { reject(abortedError(method, abortReason)) })
    const onSignalAbort = (event: Event): void => {
      abortReason = (event.target as AbortSignal).reason
      xhr.abort()
    }
    // Listening last, right before send: nothing above can then leave a listener on a long-lived signal behind.
    for (const signal of options.signals) signal.addEventListener('abort', onSignalAbort, { once: true })
    xhr.addEventListener('loadend', () => {
      for (const signal of options.signals) signal.removeEventListener('abort', onSignalAbort)
    })
    xhr.send(request.body)
  })
}

function abortedError (method: string, reason: unknown): TransportError {
  return new TransportError('aborted', `call "${method}" was aborted through its signal`, { cause: reason })
}
