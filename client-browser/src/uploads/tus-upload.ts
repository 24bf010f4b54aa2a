import { RpcError, UPLOAD_TOKEN_HEADER } from '@formcall/spec'
import type { ErrorObject } from '@formcall/spec'
import { TransportError } from '../errors.js'
import { filenameOf } from '../encode/classify-file-like.js'
import type { ResolvedResumable } from '../resumable.js'
import { sendTusRequest, TusNetworkError } from './tus-request.js'
import type { TusAnswer } from './tus-request.js'
import { rememberKey, uploadStore } from './upload-store.js'

/**
 * A finished upload, ready to be bound to a call.
 *
 * @example
 * ```ts
 * const { url, token, forget } = await uploadFile(file, context)
 * ```
 */
export interface FinishedUpload {
  url: string
  token: string
  /** Forgets the remembered upload (once a call has bound it). */
  forget: () => void
}

/**
 * What one resumable upload needs besides its file.
 *
 * @example
 * ```ts
 * const context: UploadContext = { endpoint, settings, fingerprint: undefined, headers, withCredentials: false, signal,
 *   terminateOnAbort: () => true, onProgress: (loaded) => { bar.value = loaded / file.size } }
 * ```
 */
export interface UploadContext {
  /** The tus endpoint, `<call url>/uploads/`, absolute. */
  endpoint: string
  settings: ResolvedResumable
  /** The file's own options (from `resumable(file, options)`). */
  fingerprint: string | undefined
  /** Headers sent with every tus request (the call's, `content-type` left out). */
  headers: ReadonlyMap<string, string | string[]>
  withCredentials: boolean
  /** Aborting it stops the upload; its reason is what the upload rejects with. */
  signal: AbortSignal
  /** Whether an abort also deletes the upload on the server (termination). */
  terminateOnAbort: () => boolean
  /** Bytes of the file the server holds or is being sent; may fall back to the acknowledged offset after a failure. */
  onProgress: (loaded: number) => void
}

/** An answer that ends the upload with an error, not to be retried. */
class UploadRefused extends Error {
  constructor (readonly error: Error) { super(error.message) }
}

/** The statuses after which the same request may succeed later: a conflict on the offset (re-read it), a lock, an overload. */
const RETRY_STATUSES = new Set([409, 423, 429, 500, 502, 503, 504])

/**
 * Uploads `file` to the tus endpoint (tus 1.0: creation, then `PATCH` from the offset the server holds) and resolves
 * once the server has every byte. A dropped connection or a retryable status waits the next of `retryDelays` and
 * resumes from the offset a `HEAD` reports; a request that made progress starts the delays again. With
 * `rememberUploads`, the upload's URL and token are kept in `localStorage` under the file's fingerprint, and a later
 * upload of the same file (after a reload) resumes it if the server still has it.
 *
 * Rejects with the signal's reason when aborted (after starting a `DELETE` of the upload when `terminateOnAbort()`),
 * with `TransportError` when retries ran out or the server answered what cannot be retried, and with `RpcError` when
 * that answer was a formcall error envelope (an origin refusal).
 *
 * @example
 * ```ts
 * const { url, token } = await uploadFile(file, context)
 * params = { video: { $upload: url, token } }
 * ```
 */
export async function uploadFile (file: Blob, context: UploadContext): Promise<FinishedUpload> {
  const { endpoint, settings, signal } = context
  const size = file.size
  const store = uploadStore()
  const key = settings.rememberUploads ? rememberKey(file, context.fingerprint, endpoint) : undefined
  const send = async (method: 'POST' | 'HEAD' | 'PATCH' | 'DELETE', url: string, extra: Record<string, string>, body?: Blob, onProgress?: (loaded: number) => void): Promise<TusAnswer> => {
    const headers = new Map(context.headers)
    for (const [name, value] of Object.entries(extra)) headers.set(name, value)
    return await sendTusRequest({ method, url, headers, withCredentials: context.withCredentials, signal, ...(body === undefined ? {} : { body }), ...(onProgress === undefined ? {} : { onProgress }) })
  }

  let url: string | undefined
  let token: string | undefined
  let offset: number | undefined
  const remembered = key === undefined ? undefined : store.find(key)
  if (remembered !== undefined && remembered.size === size) {
    url = remembered.url
    token = remembered.token
  } else if (remembered !== undefined && key !== undefined) {
    store.remove(key)
  }

  const forget = (): void => { if (key !== undefined) store.remove(key) }
  let attempt = 0
  // The highest offset the server acknowledged: a retry that finds it higher made progress, and the delays start over.
  let acknowledged = -1
  const acknowledge = (at: number): void => {
    if (at > acknowledged) { acknowledged = at; attempt = 0 }
  }
  try {
    for (;;) {
      try {
        if (url === undefined) {
          ({ url, token } = await create(file, endpoint, send))
          offset = 0
          if (key !== undefined) store.save(key, { url, token, size })
        }
        if (offset === undefined) {
          const head = await send('HEAD', url, {})
          if (head.status === 404 || head.status === 410) {
            // Expired or removed (a remembered upload the server no longer has): start again from zero.
            forget()
            url = undefined
            continue
          }
          offset = readOffset(head, 'HEAD', url)
          if (head.header('Upload-Length') !== null && Number(head.header('Upload-Length')) !== size) {
            forget()
            url = undefined
            continue
          }
        }
        acknowledge(offset)
        context.onProgress(offset)
        if (offset >= size) return { url, token: token as string, forget }
        const start = offset
        const end = Math.min(size, start + settings.chunkSize)
        // The offset is unknown until the answer says it: a broken PATCH may have stored any part of its body.
        offset = undefined
        const patch = await send('PATCH', url, { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(start) },
          file.slice(start, end), (loaded) => { context.onProgress(start + loaded) })
        if (patch.status !== 204 && patch.status !== 200) throw refusalOrRetry(patch, 'PATCH', url)
        offset = readOffset(patch, 'PATCH', url)
      } catch (err) {
        if (signal.aborted) throw signal.reason
        if (err instanceof UploadRefused) throw err.error
        const delay = settings.retryDelays[attempt++]
        if (delay === undefined) throw retriesExhausted(err, settings.retryDelays.length, url ?? endpoint)
        offset = undefined
        await sleep(delay, signal)
      }
    }
  } catch (err) {
    if (signal.aborted && url !== undefined && context.terminateOnAbort()) {
      forget()
      terminate(url, context)
    }
    throw err
  }
}

type Send = (method: 'POST', url: string, extra: Record<string, string>) => Promise<TusAnswer>

/** Creates the upload: `POST` with its length and metadata; the answer has its URL and its token. */
async function create (file: Blob, endpoint: string, send: Send): Promise<{ url: string, token: string }> {
  const metadata = [`filename ${base64(filenameOf(file))}`]
  if (file.type !== '') metadata.push(`filetype ${base64(file.type)}`)
  const answer = await send('POST', endpoint, { 'Upload-Length': String(file.size), 'Upload-Metadata': metadata.join(',') })
  if (answer.status === 404) {
    throw new UploadRefused(new TransportError('protocol', `the server has no resumable uploads at ${endpoint} (404): enable ` +
      '`uploads` on the server, or send the file in the call (without resumable())', { status: 404 }))
  }
  if (answer.status !== 201) throw refusalOrRetry(answer, 'POST', endpoint)
  const location = answer.header('Location')
  const token = answer.header(UPLOAD_TOKEN_HEADER)
  if (location === null || token === null) {
    throw new UploadRefused(new TransportError('protocol', `the upload creation at ${endpoint} answered without ` +
      `${location === null ? 'Location' : UPLOAD_TOKEN_HEADER}: it is not a formcall upload endpoint, or a proxy or CORS ` +
      `hides the header (the server must expose Location and ${UPLOAD_TOKEN_HEADER})`, { status: answer.status }))
  }
  return { url: new URL(location, endpoint).href, token }
}

function readOffset (answer: TusAnswer, method: string, url: string): number {
  if (answer.status < 200 || answer.status > 299) throw refusalOrRetry(answer, method, url)
  const offset = Number(answer.header('Upload-Offset') ?? NaN)
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new UploadRefused(new TransportError('protocol', `${method} ${url} answered without a valid Upload-Offset`, { status: answer.status }))
  }
  return offset
}

/** A retryable answer becomes an error the loop retries; any other ends the upload, as an RpcError if it is an envelope. */
function refusalOrRetry (answer: TusAnswer, method: string, url: string): Error {
  const error = new TransportError('protocol', `${method} ${url} answered HTTP ${answer.status}${answer.text === '' ? '' : `: ${answer.text.slice(0, 200)}`}`, { status: answer.status })
  if (RETRY_STATUSES.has(answer.status)) return error
  return new UploadRefused(envelopeError(answer.text) ?? error)
}

/** The server answers refusals before tus (an origin it does not allow) with a formcall error envelope. */
function envelopeError (text: string): RpcError | undefined {
  try {
    const error = (JSON.parse(text) as { error?: Partial<ErrorObject> }).error
    return typeof error?.code === 'number' && typeof error.message === 'string' ? RpcError.fromJSON(error as ErrorObject) : undefined
  } catch {
    return undefined
  }
}

function retriesExhausted (err: unknown, retries: number, url: string): Error {
  if (!(err instanceof TransportError)) return err as Error
  const kind = err instanceof TusNetworkError ? 'network' : err.kind
  return new TransportError(kind, `the resumable upload to ${url} failed after ${retries} ${retries === 1 ? 'retry' : 'retries'}: ` +
    `${err.message}; call again with the same file to resume it`, { cause: err, ...(err.status === undefined ? {} : { status: err.status }) })
}

/** Deletes an aborted upload (tus termination), best effort: the server's expiry removes it otherwise. */
function terminate (url: string, context: UploadContext): void {
  const headers = new Map(context.headers)
  sendTusRequest({ method: 'DELETE', url, headers, withCredentials: context.withCredentials, signal: new AbortController().signal })
    .catch(() => {})
}

function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(timer); reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Base64 of a string's UTF-8 bytes, as tus metadata values are written. */
function base64 (text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}
