/**
 * Params of a call: positional (an array) or named (one object); `undefined` sends no `params` member.
 *
 * @example
 * ```ts
 * const positional: CallParamsLike = ['a', 2]
 * const named: CallParamsLike = { title: 'a', limit: 2 }
 * ```
 */
export type CallParamsLike = readonly unknown[] | Record<string, unknown>

/**
 * What a client supplies to get its proxy: its options, how it layers more options over them, and how it sends one
 * call. Everything else (method paths, `$call`, `$with`, the names that are never methods) is the same in every
 * client.
 *
 * @example
 * ```ts
 * const definition: ClientDefinition<MergedOptions<Progress>, CallOptions> = {
 *   options: merge(noOptions(), clientOptions),
 *   merge,
 *   call: (method, params, options) => send(method, params, options)
 * }
 * ```
 */
export interface ClientDefinition<Options, Layer> {
  /** The options every call of this client starts from, already merged. */
  readonly options: Options
  /** Lays a caller's options over merged ones; throws a TypeError for a setting of the wrong type. */
  readonly merge: (base: Options, layer: Layer | undefined) => Options
  /** Sends one call and settles with its outcome. */
  readonly call: (method: string, params: CallParamsLike | undefined, options: Options) => Promise<unknown>
}

/**
 * Property names that never name a remote method, because the language or common tools probe them: `then` (`await`
 * and `return` from an async function would otherwise call a method "then" and hang), `toJSON` (`JSON.stringify`),
 * and the members of `Object.prototype` (`toString`, `valueOf`, `constructor`, `hasOwnProperty`, … used by string
 * conversion, template literals and equality helpers; the protocol forbids calling them anyway, PROTOCOL.md 6.2).
 * Symbol keys (`Symbol.toPrimitive`, `Symbol.iterator`, inspection symbols) are never method names either. Methods
 * with these names stay reachable through `$call`.
 */
const NOT_METHODS = new Set<string>(['then', 'toJSON', ...Object.getOwnPropertyNames(Object.prototype)])

/** Names that must read as absent, so that the proxy is neither thenable nor has a JSON form of its own. */
const ABSENT = new Set<string>(['then', 'toJSON'])

/** Sends a call for a method path. */
type Invoke = (method: string, args: unknown[]) => Promise<unknown>

/**
 * Makes a client: a Proxy where property paths are method names and calling one sends the call
 * (`api.files.store(a, b)` calls `files.store` with params `[a, b]`), plus `$call(method, params?, options?)` and
 * `$with(options)` at the root. Names starting with `$` are reserved for such members, so they never collide with a
 * method.
 *
 * The proxy is not thenable, converts to a string and inspects without calling the server (see `NOT_METHODS`), cannot
 * be assigned to, and gives the same proxy for the same path.
 *
 * @example
 * ```ts
 * const api = createClientProxy({ options, merge, call }) as Client<typeof methods>
 * await api.files.store(file)          // call('files.store', [file], options)
 * await api.$call('then', [1])         // a method named "then"
 * `${api}`                             // no call: a function's string form
 * ```
 */
export function createClientProxy<Options, Layer> (definition: ClientDefinition<Options, Layer>): unknown {
  const { options, merge, call } = definition
  const $call = async (method: string, params?: CallParamsLike, layer?: Layer): Promise<unknown> => {
    assertCallTarget(method, params)
    return await call(method, params, merge(options, layer))
  }
  const $with = (layer: Layer): unknown => createClientProxy({ ...definition, options: merge(options, layer) })
  return pathProxy([], { $call, $with }, (method, args) => call(method, args, options))
}

/** Refuses what `$call` cannot send, with an example of what it takes. */
function assertCallTarget (method: unknown, params: unknown): void {
  if (typeof method !== 'string' || method === '') {
    throw new TypeError(`$call needs a method name such as "files.store"; got ${JSON.stringify(method) ?? String(method)}`)
  }
  if (params !== undefined && (typeof params !== 'object' || params === null)) {
    throw new TypeError(`$call params must be an array (positional) or an object (named); got ${params === null ? 'null' : typeof params}`)
  }
}

/**
 * One node of the method tree. Children are made on first access and cached, so `api.files === api.files`. The
 * target is a named arrow function: callable (for the `apply` trap), not constructible, without non-configurable
 * own properties (`prototype`) whose Proxy invariants would pin `get`, and shown by `util.inspect` and devtools as
 * `[Function: files.store]` (inspection looks at the target, never through the traps).
 */
function pathProxy (path: readonly string[], controls: Record<string, unknown> | undefined, invoke: Invoke): unknown {
  const name = path.join('.')
  const target = Object.defineProperty(() => {}, 'name', { value: name === '' ? 'formcall client' : name })
  const children = new Map<string, unknown>()

  return new Proxy(target, {
    get (_target, key) {
      if (typeof key === 'symbol') return undefined
      if (key.startsWith('$')) return controls !== undefined && Object.hasOwn(controls, key) ? controls[key] : undefined
      if (NOT_METHODS.has(key)) return ABSENT.has(key) ? undefined : Reflect.get(target, key)
      let child = children.get(key)
      if (child === undefined) {
        child = pathProxy([...path, key], undefined, invoke)
        children.set(key, child)
      }
      return child
    },
    apply (_target, _this, args: unknown[]) {
      if (name === '') return Promise.reject(new TypeError('the client itself is not a method: call api.someMethod(...)'))
      return invoke(name, withoutTrailingUndefined(args))
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false
  })
}

/**
 * Drops trailing `undefined` arguments: JSON would send them as `null`, and a method with an optional last parameter
 * would then receive `null` instead of its default, unlike the same call made locally.
 */
function withoutTrailingUndefined (args: unknown[]): unknown[] {
  let end = args.length
  while (end > 0 && args[end - 1] === undefined) end--
  return end === args.length ? args : args.slice(0, end)
}
