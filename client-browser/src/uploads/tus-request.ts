import { TransportError } from '../errors.js'

/** The tus protocol version every request declares (`Tus-Resumable: 1.0.0`). */
export const TUS_VERSION = '1.0.0'

/**
 * One tus request: its method, headers and optional body.
 *
 * @example
 * ```ts
 * const request: TusRequest = { method: 'HEAD', url, headers: new Map(), withCredentials: false, signal }
 * ```
 */
export interface TusRequest {
  method: 'POST' | 'HEAD' | 'PATCH' | 'DELETE'
  url: string
  headers: ReadonlyMap<string, string | string[]>
  body?: Blob
  withCredentials: boolean
  /** Bytes of `body` sent so far. */
  onProgress?: (loaded: number) => void
  /** Aborting it aborts the request: the promise rejects with the signal's reason. */
  signal: AbortSignal
}

/**
 * What a tus request got back (any status).
 *
 * @example
 * ```ts
 * const offset = Number(answer.header('Upload-Offset'))
 * ```
 */
export interface TusAnswer {
  status: number
  header: (name: string) => string | null
  text: string
}

/**
 * A tus request that got no HTTP answer: the connection broke, or a preflight was refused (CORS). A `network`
 * TransportError, which the upload retries.
 *
 * @example
 * ```ts
 * if (err instanceof TusNetworkError) await sleep(delay)
 * ```
 */
export class TusNetworkError extends TransportError {
  constructor (message: string) {
    super('network', message)
  }
}

/**
 * Sends one tus request with XMLHttpRequest (as calls are sent: XHR reports upload progress on every browser and
 * protocol, and sends a Blob slice from disk without reading it into memory) and resolves with its answer, whatever
 * the status. Rejects with `TusNetworkError` when no answer arrived, and with the signal's reason when aborted.
 *
 * @example
 * ```ts
 * const answer = await sendTusRequest({ method: 'HEAD', url, headers: new Map(), withCredentials: false, signal })
 * answer.header('Upload-Offset') // '1048576'
 * ```
 */
export function sendTusRequest (request: TusRequest): Promise<TusAnswer> {
  return new Promise((resolve, reject) => {
    const { signal } = request
    if (signal.aborted) {
      reject(signal.reason)
      return
    }
    const xhr = new XMLHttpRequest()
    xhr.open(request.method, request.url)
    xhr.withCredentials = request.withCredentials
    request.headers.forEach((value, name) => {
      for (const item of typeof value === 'string' ? [value] : value) xhr.setRequestHeader(name, item)
    })
    xhr.setRequestHeader('Tus-Resumable', TUS_VERSION)
    const report = request.onProgress
    if (report !== undefined) xhr.upload.addEventListener('progress', (event) => { report(event.loaded) })

    const onAbort = (): void => { xhr.abort() }
    xhr.addEventListener('load', () => {
      resolve({ status: xhr.status, header: (name) => xhr.getResponseHeader(name), text: xhr.responseText })
    })
    xhr.addEventListener('error', () => {
      reject(new TusNetworkError(`the upload request ${request.method} ${request.url} got no answer: the connection ` +
        'broke, the network is down, or the server does not allow uploads from this origin (CORS)'))
    })
    xhr.addEventListener('abort', () => { reject(signal.reason) })
    xhr.addEventListener('loadend', () => { signal.removeEventListener('abort', onAbort) })
    signal.addEventListener('abort', onAbort, { once: true })
    xhr.send(request.body ?? null)
  })
}
