import type { Agent } from 'node:http'
import { resolve as resolvePath } from 'node:path'
import type * as Tus from 'tus-js-client'
import { UPLOAD_TOKEN_HEADER } from '@formcall/spec'
import { TransportError } from '../errors.js'
import type { BoundUpload, ResumableFile } from '../encode/index.js'
import { ClosableHttpStack } from './closable-http-stack.js'
import { DiskFileSource } from './disk-file-source.js'
import { loadTus } from './load-tus.js'
import { UploadTokenStore, type StoredUpload } from './upload-token-store.js'

/** Where and how one call's resumable files are sent. */
export interface TusTarget {
  /** The tus endpoint: `<call url>/uploads/`. */
  endpoint: URL
  /** The caller's headers (an auth proxy in front of the server wants them too), minus those tus frames itself. */
  headers: Record<string, string>
  agent: Agent
  chunkSize: number
  retryDelays: readonly number[]
  /** tus-js-client's URL storage file, when the caller opted in to resuming across processes. */
  storePath: string | undefined
  /** Names the call in error messages. */
  label: string
}

/** A finished upload, and how to drop what was kept to resume it once the call that bound it succeeded. */
export interface FinishedUpload extends BoundUpload {
  forget: () => Promise<void>
}

/** Retries of the DELETE that terminates an aborted upload: brief, so that an abort is answered promptly. */
const TERMINATE_RETRY_DELAYS = [0, 200]
/** How long an aborted call waits for its termination to be answered before it rejects anyway. */
const TERMINATE_WAIT_MS = 3000

/**
 * Uploads one file on disk through the server's tus endpoint with tus-js-client, and resolves once every byte is
 * stored, with the upload's URL and the `Upload-Token` its creation answered (PROTOCOL.md 11.2).
 *
 * Each PATCH streams its range from disk (`DiskFileSource`). A failed request is retried after `retryDelays`: tus-js-
 * client asks the server for its offset (HEAD) and sends the rest, so a dropped connection or a restarted server
 * costs only the bytes the server had not stored. `onProgress` gets the offset sent so far, which may go back after a
 * retry (the caller keeps the high mark). When `signal` aborts, the upload is stopped and terminated on the server
 * (tus-js-client's `abort(true)`: a DELETE), and the promise rejects with the signal's reason once that is answered,
 * or after 3 s without an answer (the server is unreachable: the upload then expires there).
 * A failure becomes a `TransportError` naming the file: `network` when the server could not be reached within the
 * retries, `protocol` (with `status`) when it refused.
 *
 * @example
 * ```ts
 * const upload = await tusUpload(file, target, (offset) => bar.update(offset), scope.signal)
 * upload.url   // 'http://localhost:8080/rpc/uploads/9f86d0…'
 * ```
 */
export async function tusUpload (file: ResumableFile, target: TusTarget, onProgress: (offset: number) => void, signal: AbortSignal): Promise<FinishedUpload> {
  signal.throwIfAborted()
  const tus = await loadTus()
  const store = target.storePath === undefined ? undefined : await UploadTokenStore.open(target.storePath)
  const source = new DiskFileSource(file.path, file.size)
  const http = new ClosableHttpStack(new tus.DefaultHttpStack({ agent: target.agent }))
  const endpoint = target.endpoint.href
  // What tells a stored upload is of this file: tus-js-client's own fingerprint for an fs.ReadStream, without
  // the endpoint's credentials (the store is a file on disk).
  const fingerprint = ['formcall-node-file', resolvePath(file.path), file.size, file.modified, withoutCredentials(target.endpoint)].join('-')
  let token: string | undefined

  return await new Promise<FinishedUpload>((resolve, reject) => {
    let settled = false
    const settle = (outcome: () => void): void => {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      void source.release().then(outcome)
    }

    const upload = new tus.Upload(file as unknown as Buffer, {
      endpoint,
      metadata: { filename: file.filename, ...(file.type === undefined ? {} : { filetype: file.type }) },
      headers: target.headers,
      chunkSize: target.chunkSize,
      retryDelays: [...target.retryDelays],
      httpStack: http,
      fileReader: { openFile: async () => source },
      fingerprint: async () => fingerprint,
      storeFingerprintForResuming: store !== undefined,
      removeFingerprintOnSuccess: false,
      ...(store === undefined ? {} : { urlStorage: store }),
      onAfterResponse: (req, res) => {
        const status = res.getStatus()
        // Every creation (also one made because a stored upload was gone) brings the token of its upload.
        if (req.getMethod() === 'POST' && status >= 200 && status < 300) {
          const value: unknown = res.getHeader(UPLOAD_TOKEN_HEADER)
          token = typeof value === 'string' && value !== '' ? value : undefined
          if (store !== undefined) store.token = token
        }
      },
      onProgress: (sent) => onProgress(sent),
      // tus-js-client's own rule (network errors, 5xx, 409 and 423 are retried), but never after an abort.
      onShouldRetry: (err) => !signal.aborted && retryable(err),
      onError: (err) => settle(() => reject(tusFailure(err, file, target))),
      onSuccess: () => settle(() => {
        if (token === undefined) {
          reject(new TransportError('protocol', `${target.label} failed: the server created the upload of ${describe(file)} ` +
            `without an ${UPLOAD_TOKEN_HEADER} header, so no call can bind it; is ${withoutCredentials(target.endpoint)} a ` +
            `formcall server with uploads enabled, and does every proxy in between pass the ${UPLOAD_TOKEN_HEADER} header?`))
          return
        }
        onProgress(file.size)
        resolve({ url: upload.url as string, token, forget: async () => await store?.forget().catch(() => {}) })
      })
    })

    const onAbort = (): void => {
      if (settled) return
      // The upload's own backoff would hold the abort up for a minute if the server is gone, and a server that no
      // longer answers would hold it forever: the termination gets a few seconds, then its request is dropped.
      upload.options.retryDelays = TERMINATE_RETRY_DELAYS
      const terminated = upload.abort(true).catch(() => {})
      let timer: NodeJS.Timeout | undefined
      const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, TERMINATE_WAIT_MS) })
      void Promise.race([terminated, waited]).then(() => {
        clearTimeout(timer)
        http.close()
        settle(() => reject(signal.reason))
      })
    }
    signal.addEventListener('abort', onAbort)
    // It may have aborted while tus-js-client or the store was loading: then nothing is started.
    if (signal.aborted) {
      onAbort()
      return
    }

    const start = async (): Promise<void> => {
      if (store !== undefined) {
        // The newest stored upload of this file that kept its token; tus-js-client checks it with a HEAD, and
        // starts over (a new creation, a new token) if the server no longer has it.
        const stored = (await upload.findPreviousUploads()) as unknown as StoredUpload[]
        const previous = stored.filter((entry) => typeof entry.uploadToken === 'string' && entry.uploadUrl !== null).at(-1)
        if (previous !== undefined && !signal.aborted) {
          token = previous.uploadToken
          store.token = token
          store.key = previous.urlStorageKey
          upload.resumeFromPreviousUpload(previous as unknown as Parameters<typeof upload.resumeFromPreviousUpload>[0])
        }
      }
      if (!signal.aborted) upload.start()
    }
    // Only reading the store can fail here (a file that is not tus-js-client's JSON, or unreadable).
    start().catch((err: unknown) => settle(() => reject(new Error(`${target.label} failed: the resumable-upload store ` +
      `${JSON.stringify(target.storePath)} (resumable.storePath) could not be read: ${(err as Error).message}; remove or fix it`, { cause: err }))))
  })
}

/** tus-js-client's default retry rule, which a custom `onShouldRetry` replaces. */
function retryable (err: Tus.DetailedError): boolean {
  const status = err.originalResponse?.getStatus() ?? 0
  return status < 400 || status >= 500 || status === 409 || status === 423
}

/**
 * A tus failure as the call's `TransportError`. tus-js-client's own message carries request URLs (with any
 * credentials of the endpoint); it goes into `cause`, and the message says what failed and what to do.
 */
function tusFailure (err: Error, file: ResumableFile, target: TusTarget): TransportError {
  const what = `${target.label} failed: the resumable upload of ${describe(file)}`
  const detailed = err as Partial<Tus.DetailedError>
  const request = detailed.originalRequest
  const status = detailed.originalResponse?.getStatus()
  if (request === undefined || request === null) {
    // Not an HTTP failure: the file could not be read, or tus-js-client refused its options.
    return new TransportError('protocol', `${what} could not start: ${err.message}`, { cause: err })
  }
  const method = request.getMethod()
  const at = withoutCredentials(target.endpoint)
  if (status === undefined) {
    const reason = detailed.causingError?.message ?? err.message
    return new TransportError('network', `${what} stopped: ${method} to ${at} failed (${reason}) and ` +
      `${target.retryDelays.length} retries did not get further; check that the server is running and reachable, ` +
      'then call again (resumable.retryDelays sets how long to keep trying)', { cause: err })
  }
  const hint = method === 'POST' && status === 404
    ? `the server has no resumable uploads (POST ${at} answered 404); enable them on the server (uploads: { directory }) ` +
      'or send the file without { resumable: true }'
    : status === 413
      ? `the server refuses an upload of ${file.size} bytes (413: larger than its uploads.maxSize)`
      : status === 404 || status === 410
        ? `the server no longer has the upload (${method} answered ${status}: it expired or was deleted); call again to upload it anew`
        : `the tus endpoint ${at} answered ${method} with HTTP ${status}`
  return new TransportError('protocol', `${what} was refused: ${hint}${serverSaid(detailed.originalResponse?.getBody())}`, { status, cause: err })
}

/**
 * What the server said, when it refused with a formcall error envelope (its origin check or `beforeUpload` hook:
 * PROTOCOL.md section 11), so that its reason and what to do reach the caller.
 */
function serverSaid (body: string | undefined): string {
  if (body === undefined || !body.trimStart().startsWith('{')) return ''
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown, message?: unknown } }).error
    if (typeof error?.message !== 'string') return ''
    return `; the server said: ${error.message}${typeof error.code === 'number' ? ` (code ${error.code})` : ''}`
  } catch {
    return ''
  }
}

function describe (file: ResumableFile): string {
  return `fileFromPath(${JSON.stringify(file.path)}) at ${file.where}`
}

/** Origin and path only, for messages and the stored fingerprint. */
function withoutCredentials (url: URL): string {
  return `${url.origin}${url.pathname}`
}
