import type { RemoteApi } from '@formcall/spec'
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
 * method's default parameter values apply as they would in a local call. The client is not thenable: `await api`
 * gives back the client, it does not call a method named `then`.
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

  const call = async (method: string, params: CallParams, callOptions: ResolvedCallOptions): Promise<unknown> => {
    const id = ++lastId
    const request = encodeCall({ id, method, params })
    const answer = await sendRequest(endpoint, request, callOptions, method)
    return decodeAnswer(answer, { id, method })
  }

  const root = (base: ResolvedCallOptions): Client<M> => {
    const controls: ClientControls<M> = {
      $call: async <T>(method: string, params: CallParams = [], more?: CallOptions): Promise<T> =>
        await call(method, params, mergeCallOptions(base, more)) as T,
      $with: (more: CallOptions): Client<M> => root(mergeCallOptions(base, more))
    }
    return pathProxy([], controls, (method, args) => call(method, args, base)) as Client<M>
  }

  return root(mergeCallOptions(noCallOptions(), options))
}

type Invoke = (method: string, args: unknown[]) => Promise<unknown>

function pathProxy (path: readonly string[], controls: object | null, invoke: Invoke): unknown {
  // An arrow function as target: callable, and without non-configurable own properties (`prototype`) whose Proxy
  // invariants would force `get` to return the real value.
  return new Proxy(() => {}, {
    get (_target, key) {
      // Symbols are asked for by the runtime (Symbol.toPrimitive, inspection), never method names.
      if (typeof key === 'symbol') return undefined
      // `then` must be undefined, or `await api` and `return api` from an async function would call the server.
      if (key === 'then') return undefined
      if (controls !== null && Object.hasOwn(controls, key)) return (controls as Record<string, unknown>)[key]
      return pathProxy([...path, key], null, invoke)
    },
    apply (_target, _this, args: unknown[]) {
      if (path.length === 0) return Promise.reject(new TypeError('the client itself is not a method: call api.someMethod(...)'))
      let end = args.length
      while (end > 0 && args[end - 1] === undefined) end--
      return invoke(path.join('.'), args.slice(0, end))
    }
  })
}
