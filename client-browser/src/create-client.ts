import type { RemoteApi } from '@formcall/spec'
import { createClientProxy, type CallParamsLike } from '@formcall/spec/client'
import { mergeCallOptions, noCallOptions } from './call-options.js'
import type { CallOptions, ClientOptions, ResolvedCallOptions } from './call-options.js'
import { decodeAnswer } from './decode/index.js'
import type { DownloadedBlob } from './decode/index.js'
import { encodeCall } from './encode/index.js'
import { sendRequest } from './send/index.js'

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
    const request = encodeCall({ id, method, params })
    const answer = await sendRequest(endpoint, request, callOptions, method)
    return await decodeAnswer(answer, { id, method })
  }

  return createClientProxy({ options: mergeCallOptions(noCallOptions(), options), merge: mergeCallOptions, call }) as Client<M>
}
