import { ErrorCode, isRpcError } from '@formcall/spec'
import type { RemoteApi } from '@formcall/spec'
import { callJson, collectFiles, createClientProxy, type CallParamsLike, type CollectedFiles } from '@formcall/spec/client'
import { mergeCallOptions, noCallOptions } from './call-options.js'
import type { CallOptions, ClientOptions, ResolvedCallOptions } from './call-options.js'
import { decodeAnswer } from './decode/index.js'
import type { DownloadedBlob } from './decode/index.js'
import { classifyFileLike, encodeCollected } from './encode/index.js'
import { TransportError } from './errors.js'
import { resumableOptionsOf } from './resumable.js'
import { sendRequest } from './send/index.js'
import { uploadCallFiles } from './uploads/index.js'
import type { UploadedCall } from './uploads/index.js'

/**
 * Params of `$call`: positional (an array) or named (one object).
 *
 * @example
 * ```ts
 * await api.$call('notes.add', { title: 'a', attachment: file }) // named
 * await api.$call('echo', ['hi'])                                // positional
 * ```
 */
export type CallParams = readonly unknown[] | Record<string, unknown>

/**
 * The reserved `$` members of a client, beside its methods.
 *
 * @example
 * ```ts
 * await api.$call('files.digest', [file], { timeout: 10_000 })
 * const quiet = api.$with({ headers: { 'x-trace': '0' } })
 * ```
 */
export interface ClientControls<M> {
  /** Calls a method by its dotted name, for names known only at run time; resolves with the raw result. */
  $call: <T = unknown>(method: string, params?: CallParams, options?: CallOptions) => Promise<T>
  /** A client whose calls use these options over the current ones (see `CallOptions` for how they merge). */
  $with: (options: CallOptions) => Client<M>
}

/**
 * Any method name, any depth: the shape of a client created without a methods type.
 *
 * @example
 * ```ts
 * const api = createClient('/rpc')                        // Client<unknown>, methods typed as UntypedApi
 * const result: unknown = await api.any.method.name(1, 2)
 * ```
 */
export interface UntypedApi {
  [name: string]: UntypedApi & ((...args: unknown[]) => Promise<unknown>)
}

/**
 * The client of a methods object `M`: each method becomes a promise-returning function taking File/Blob where the
 * server takes a file, and resolving with `DownloadedBlob` where the server returns one.
 *
 * @example
 * ```ts
 * import type { methods } from '../server/methods'
 * const api: Client<typeof methods> = createClient<typeof methods>('/rpc')
 * ```
 */
export type Client<M> = ClientControls<M> & (unknown extends M ? UntypedApi : RemoteApi<M, File | Blob, DownloadedBlob>)

/**
 * Creates a client for the formcall endpoint at `url` (absolute, or relative to the page).
 *
 * The client is a Proxy: `api.files.digest(a, b)` calls the method `files.digest` with params `[a, b]`. Files,
 * Blobs and FileLists may appear anywhere in the arguments. Trailing `undefined` arguments are dropped, so the
 * method's default parameter values apply as they would in a local call. The client is the proxy every formcall
 * client shares (`@formcall/spec/client`): it is not thenable (`await api` gives back the client, it does not call a
 * method named `then`), and printing it (`String(api)`, a template literal, `console.log`) calls nothing.
 *
 * @example
 * ```ts
 * import { createClient } from '@formcall/client-browser'
 * import type { methods } from '../server/methods'
 *
 * const api = createClient<typeof methods>('/rpc', { timeout: 30_000 })
 * await api.echo('hi')                                  // 'hi'
 * await api.files.digest(input.files![0])               // multipart upload, the file streamed to the method
 * await api.$with({ onUploadProgress: console.log }).files.digest(bigBlob)
 * ```
 */
export function createClient<M = unknown> (url: string | URL, options?: ClientOptions): Client<M> {
  let lastId = 0
  const endpoint = String(url)

  const call = async (method: string, params: CallParamsLike | undefined, callOptions: ResolvedCallOptions): Promise<unknown> => {
    const id = ++lastId
    const collected = collectFiles(params, classifyFileLike)
    if (!collected.files.some(({ file }) => resumableOptionsOf(file, callOptions.resumable) !== undefined)) {
      const answer = await sendRequest(endpoint, encodeCollected({ id, method, ...collected }), callOptions, method)
      return await decodeAnswer(answer, { id, method })
    }

    // Params JSON cannot carry fail here, before any byte is uploaded, as they do in a call without uploads.
    callJson({ id, method, params: collected.params })
    const started = Date.now()
    const uploaded = await uploadBeforeCall(endpoint, method, collected, callOptions)
    const report = callOptions.onUploadProgress
    const sendOptions: ResolvedCallOptions = {
      ...callOptions,
      // The timeout covers the whole call: what the uploads took is not given again to the request.
      timeout: callOptions.timeout === 0 ? 0 : Math.max(1, callOptions.timeout - (Date.now() - started)),
      // Progress goes on from the uploaded bytes, so that it runs over the whole of the call's files; a call left
      // with no file to carry (a JSON body) adds nothing to it.
      onUploadProgress: report === undefined || uploaded.files.length === 0
        ? undefined
        : ({ loaded, total }) => { report({ loaded: uploaded.bytes + loaded, total: uploaded.bytes + total }) }
    }
    const answer = await sendRequest(endpoint, encodeCollected({ id, method, params: uploaded.params, files: uploaded.files }), sendOptions, method)
    let outcome: unknown
    try {
      outcome = await decodeAnswer(answer, { id, method })
    } catch (err) {
      // An upload the server will not bind (gone, expired, its token refused) is no use to a retry; after any other
      // error, calling again with the same files binds the same uploads without sending their bytes again.
      if (isRpcError(err) && UPLOAD_ERRORS.has(err.code)) for (const upload of uploaded.uploads) upload.forget()
      throw err
    }
    for (const upload of uploaded.uploads) upload.forget()
    return outcome
  }

  return createClientProxy({ options: mergeCallOptions(noCallOptions(), options), merge: mergeCallOptions, call }) as Client<M>
}

/** The errors of a call that binds an upload the server does not have, or will not bind with this token. */
const UPLOAD_ERRORS = new Set<number>([ErrorCode.UPLOAD_NOT_FOUND, ErrorCode.UPLOAD_EXPIRED, ErrorCode.UPLOAD_FORBIDDEN])

/** The reason the uploads' signal aborts with when the call's timeout elapsed (an abort keeps its caller's reason). */
const TIMED_OUT = Symbol('timed out')

/**
 * Runs a call's resumable uploads under the call's signals and timeout, turning their abort into the call's
 * TransportError (`aborted`, after which the upload is deleted on the server; or `timeout`, after which it is kept to
 * resume on the next call with the same file).
 */
async function uploadBeforeCall (
  endpoint: string,
  method: string,
  collected: CollectedFiles<Blob>,
  options: ResolvedCallOptions
): Promise<UploadedCall> {
  const controller = new AbortController()
  const onAbort = (event: Event): void => { controller.abort((event.target as AbortSignal).reason) }
  const alreadyAborted = options.signals.find((signal) => signal.aborted)
  if (alreadyAborted !== undefined) controller.abort(alreadyAborted.reason)
  for (const signal of options.signals) signal.addEventListener('abort', onAbort, { once: true })
  const timer = options.timeout === 0 ? undefined : setTimeout(() => { controller.abort(TIMED_OUT) }, options.timeout)
  try {
    return await uploadCallFiles(collected.params, collected.files, {
      callUrl: endpoint,
      settings: options.resumable,
      headers: options.headers,
      withCredentials: options.withCredentials,
      signal: controller.signal,
      terminateOnAbort: () => controller.signal.reason !== TIMED_OUT,
      onProgress: options.onUploadProgress
    })
  } catch (err) {
    if (!controller.signal.aborted || err !== controller.signal.reason) throw err
    if (err === TIMED_OUT) {
      throw new TransportError('timeout', `call "${method}" did not finish its resumable upload within ${options.timeout} ms; ` +
        'raise the timeout option, or call again with the same file to resume the upload')
    }
    throw new TransportError('aborted', `call "${method}" was aborted through its signal during its resumable upload`, { cause: err })
  } finally {
    clearTimeout(timer)
    for (const signal of options.signals) signal.removeEventListener('abort', onAbort)
  }
}
