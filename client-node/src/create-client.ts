import { performCall } from './perform-call.js'
import { NO_OPTIONS, resolveOptions, type ResolvedOptions } from './resolve-options.js'
import type { CallOptions, CallParams, Client, ClientOptions } from './types.js'

/**
 * Property names that never name a remote method, because the language or common tools probe them:
 * `then` (`await` would otherwise call a method "then" and hang), `toJSON` (`JSON.stringify`), and the members of
 * `Object.prototype` (`toString`, `valueOf`, `constructor`, … used by string conversion and equality helpers; the
 * protocol forbids calling them anyway). Methods with these names remain reachable through `$call`.
 */
const NOT_METHODS = new Set<string>(['then', 'toJSON', ...Object.getOwnPropertyNames(Object.prototype)])

/**
 * Creates a client for the formcall endpoint at `url`. Property paths are method names and calling one sends the
 * call: `api.files.store(arg)` calls `files.store` with `params: [arg]`. Files, paths (`fileFromPath`), streams,
 * Blobs and Buffers may appear anywhere in the arguments; they are streamed as multipart parts.
 *
 * Pass the server's methods type to get typed calls: parameters the server declares as files accept any
 * `FileLike`, and downloads resolve to `DownloadedFile`.
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
  return clientProxy(endpointOf(url), resolveOptions(NO_OPTIONS, options)) as Client<M>
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

/** The root proxy: methods by property path, plus `$call` and `$with`. */
function clientProxy (url: URL, options: ResolvedOptions): unknown {
  const $call = async (method: string, params?: CallParams, callOptions?: CallOptions): Promise<unknown> => {
    if (typeof method !== 'string' || method === '') {
      throw new TypeError(`$call needs a method name such as "files.store"; got ${JSON.stringify(method) ?? String(method)}`)
    }
    if (params !== undefined && (typeof params !== 'object' || params === null)) {
      throw new TypeError(`$call params must be an array (positional) or an object (named); got ${params === null ? 'null' : typeof params}`)
    }
    return await performCall(url, method, params, resolveOptions(options, callOptions))
  }
  const $with = (callOptions: CallOptions): unknown => clientProxy(url, resolveOptions(options, callOptions))
  return pathProxy([], { $call, $with }, (method, args) => performCall(url, method, args, options))
}

type Invoke = (method: string, args: unknown[]) => Promise<unknown>

/**
 * One node of the method tree. Children are made on first access and cached, so `api.files === api.files`.
 * The target is a named arrow function: callable (for the `apply` trap), not constructible, and shown by
 * `util.inspect` as `[Function: files.store]` (inspect looks at the target, never through the traps).
 */
function pathProxy (path: readonly string[], controls: Record<string, unknown> | undefined, invoke: Invoke): unknown {
  const name = path.join('.')
  const target = Object.defineProperty(() => {}, 'name', { value: name === '' ? 'formcall client' : name })
  const children = new Map<string, unknown>()

  return new Proxy(target, {
    get (_target, key) {
      if (typeof key === 'symbol') return undefined
      if (key.startsWith('$')) return controls?.[key]
      if (NOT_METHODS.has(key)) return key === 'then' || key === 'toJSON' ? undefined : Reflect.get(target, key)
      let child = children.get(key)
      if (child === undefined) {
        child = pathProxy([...path, key], undefined, invoke)
        children.set(key, child)
      }
      return child
    },
    apply (_target, _this, args: unknown[]) {
      if (name === '') {
        return Promise.reject(new TypeError('the client itself is not a method: call api.someMethod(…) or api.$call("name", params)'))
      }
      return invoke(name, withoutTrailingUndefined(args))
    },
    set () {
      return false
    },
    defineProperty () {
      return false
    },
    deleteProperty () {
      return false
    }
  })
}

/**
 * Drops trailing `undefined` arguments: JSON would send them as `null`, and a server method with an optional last
 * parameter would then receive `null` instead of its default.
 */
function withoutTrailingUndefined (args: unknown[]): unknown[] {
  let end = args.length
  while (end > 0 && args[end - 1] === undefined) end--
  return end === args.length ? args : args.slice(0, end)
}
