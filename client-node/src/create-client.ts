import { createClientProxy } from '@formcall/spec/client'
import { performCall } from './perform-call.js'
import { NO_OPTIONS, resolveOptions } from './resolve-options.js'
import type { Client, ClientOptions } from './types.js'

/**
 * Creates a client for the formcall endpoint at `url`. Property paths are method names and calling one sends the
 * call: `api.files.store(arg)` calls `files.store` with `params: [arg]`. Files, paths (`fileFromPath`), streams,
 * Blobs and Buffers may appear anywhere in the arguments; they are streamed as multipart parts.
 *
 * Pass the server's methods type to get typed calls: parameters the server declares as files accept any
 * `FileLike`, and downloads resolve to `DownloadedFile`.
 *
 * The client is the proxy every formcall client shares (`@formcall/spec/client`): not thenable, safe to print,
 * stringify and inspect (none of that calls the server), with `$call` and `$with` at its root.
 *
 * @example
 * ```ts
 * import type { methods } from '../server/methods.js'
 * const api = createClient<typeof methods>('http://localhost:8080/rpc', { timeout: 60_000 })
 * await api.echo('hi')
 * await api.files.store({ title: 'Q3', file: createReadStream('./q3.pdf') })
 * await api.$with({ signal, onUploadProgress: console.log }).files.store({ title: 'big', file: fileFromPath('big.iso') })
 * ```
 */
export function createClient<M = unknown> (url: string | URL, options?: ClientOptions): Client<M> {
  const endpoint = endpointOf(url)
  return createClientProxy({
    options: resolveOptions(NO_OPTIONS, options),
    merge: resolveOptions,
    call: (method, params, callOptions) => performCall(endpoint, method, params, callOptions)
  }) as Client<M>
}

function endpointOf (url: string | URL): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (err) {
    throw new TypeError(`createClient needs the absolute URL of a formcall endpoint, e.g. "http://localhost:8080/rpc"; ` +
      `got ${JSON.stringify(String(url))}`, { cause: err })
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`createClient needs an http: or https: URL; got ${parsed.protocol} in ${JSON.stringify(parsed.href)}`)
  }
  return parsed
}
