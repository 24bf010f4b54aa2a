import { encodeCall, UploadSources } from './encode/index.js'
import { CallScope, defaultAgent, sendRequest, type Exchange } from './send/index.js'
import { decodeResponse } from './decode/index.js'
import type { CallParamsLike } from '@formcall/spec/client'
import type { ResolvedOptions } from './resolve-options.js'

let nextId = 1

/**
 * Runs one call through the three stages: encode the params (files become parts), send the request, decode the
 * response. Whatever happens, the call's file streams and timer do not outlive it (for a download: its body).
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

  let exchange: Exchange
  try {
    // encodeCall hands the caller's streams to `sources` before it first waits, so their errors are watched.
    const body = await encodeCall({ method, params, id }, sources)
    exchange = await sendRequest(body, sources, {
      url,
      method,
      headers: Object.fromEntries(options.headers),
      agent: options.agent ?? defaultAgent(url),
      onUploadProgress: options.onUploadProgress,
      label
    }, scope)
  } catch (err) {
    scope.dispose()
    await sources.destroy()
    throw err
  }
  return await decodeResponse(exchange, scope, { id, label })
}
