import { collectCall, encodeCall, pickResumable, UploadSources, type BoundUpload } from './encode/index.js'
import { CallProgress, CallScope, defaultAgent, sendRequest, uploadResumableFiles, type Exchange, type ResumableUploads } from './send/index.js'
import { decodeResponse } from './decode/index.js'
import type { CallParamsLike } from '@formcall/spec/client'
import type { ResolvedOptions } from './resolve-options.js'

let nextId = 1

/**
 * Runs one call through the three stages: encode the params (files become parts), send the request, decode the
 * response. Files that go resumably are uploaded through the server's tus endpoint first, and the call binds them
 * by reference. Whatever happens, the call's file streams and timer do not outlive it (for a download: its body).
 *
 * @example
 * ```ts
 * const result = await performCall(new URL('http://localhost:8080/rpc'), 'echo', ['hi'], NO_OPTIONS)
 * ```
 */
export async function performCall (url: URL, method: string, params: CallParamsLike | undefined, options: ResolvedOptions): Promise<unknown> {
  const id = nextId++
  // Origin and path only: a URL's credentials or query must not end up in error messages and logs.
  const label = `call "${method}" to ${url.origin}${url.pathname}`
  const sources = new UploadSources()
  const scope = new CallScope({ label, signals: options.signals, timeout: options.timeout })
  const headers = Object.fromEntries(options.headers)
  const agent = options.agent ?? defaultAgent(url)

  let exchange: Exchange
  let uploads: ResumableUploads | undefined
  try {
    // collectCall hands the caller's streams to `sources` before anything waits, so their errors are watched.
    const collected = collectCall({ method, params, id }, sources)
    const resumable = await pickResumable(collected.files, options.resumable)
    let bound: ReadonlyMap<string, BoundUpload> = new Map()
    let onUploadProgress = options.onUploadProgress
    if (resumable.length > 0) {
      const progress = new CallProgress(resumable.map((file) => file.size), options.onUploadProgress, (err) => scope.fail(err))
      uploads = await uploadResumableFiles(resumable, { url, headers, agent, options: options.resumable, label }, progress, scope)
      bound = uploads.bound
      onUploadProgress = progress.bodyListener()
    }
    const body = await encodeCall(collected, bound, sources)
    exchange = await sendRequest(body, sources, { url, method, headers, agent, onUploadProgress, label }, scope)
  } catch (err) {
    scope.dispose()
    await sources.destroy()
    throw err
  }
  const result = await decodeResponse(exchange, scope, { id, label })
  // Stored only to resume across processes: an upload a successful call bound is done with.
  await uploads?.forget()
  return result
}
