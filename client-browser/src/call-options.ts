/**
 * How far an upload has got, in bytes of the request body.
 *
 * @example
 * ```ts
 * const onUploadProgress = ({ loaded, total }: UploadProgress) => { bar.value = loaded / total }
 * ```
 */
export interface UploadProgress {
  /** Bytes sent so far. */
  loaded: number
  /** Bytes of the whole body, multipart framing included; the last event has `loaded === total`. */
  total: number
}

/**
 * Options of one call, or defaults for every call of a client (`createClient(url, options)`), or for a derived
 * client (`api.$with(options)`). Later options override earlier ones, except `headers`, which are merged name by
 * name, and `signal`, where every signal given along the way can cancel the call.
 *
 * @example
 * ```ts
 * const controller = new AbortController()
 * await api.$with({
 *   timeout: 60_000,
 *   signal: controller.signal,
 *   onUploadProgress: ({ loaded, total }) => { bar.value = loaded / total }
 * }).files.store(file)
 * ```
 */
export interface CallOptions {
  /** Extra request headers (a header other than the CORS-safelisted ones makes cross-origin calls preflighted). */
  headers?: HeadersInit
  /** Milliseconds the whole call (upload, method, answer) may take; 0 or absent means no limit. */
  timeout?: number
  /** Aborting it cancels the request; the call rejects with `TransportError` of kind `aborted`. */
  signal?: AbortSignal
  /** Called as the request body is sent (a listener makes cross-origin calls preflighted). */
  onUploadProgress?: (progress: UploadProgress) => void
  /** Send cookies and HTTP auth on cross-origin calls too (the server must allow credentials). */
  withCredentials?: boolean
}

/**
 * The options every call of a client starts from; the same fields as `CallOptions`.
 *
 * @example
 * ```ts
 * const api = createClient<typeof methods>('/rpc', { headers: { authorization: `Bearer ${token}` } })
 * ```
 */
export type ClientOptions = CallOptions

/**
 * Options after merging, in the form the sender uses.
 *
 * @example
 * ```ts
 * const resolved: ResolvedCallOptions = mergeCallOptions(noCallOptions(), { signal })
 * resolved.signals // [signal]
 * ```
 */
export interface ResolvedCallOptions {
  headers: Headers
  timeout: number
  signals: readonly AbortSignal[]
  onUploadProgress: ((progress: UploadProgress) => void) | undefined
  withCredentials: boolean
}

/**
 * The options of a client created without any: no extra headers, no timeout, no signal.
 *
 * @example
 * ```ts
 * const options = mergeCallOptions(noCallOptions(), { timeout: 5000 })
 * ```
 */
export function noCallOptions (): ResolvedCallOptions {
  return { headers: new Headers(), timeout: 0, signals: [], onUploadProgress: undefined, withCredentials: false }
}

/**
 * Lays `next` over `base` without changing either.
 *
 * @example
 * ```ts
 * const merged = mergeCallOptions(noCallOptions(), { timeout: 5000 })
 * merged.timeout // 5000
 * ```
 */
export function mergeCallOptions (base: ResolvedCallOptions, next: CallOptions | undefined): ResolvedCallOptions {
  if (next === undefined) return base
  if (next.timeout !== undefined && !(Number.isFinite(next.timeout) && next.timeout >= 0)) {
    throw new TypeError(`timeout must be a number of milliseconds >= 0 (0 means none), got ${String(next.timeout)}`)
  }
  const headers = new Headers(base.headers)
  new Headers(next.headers).forEach((value, name) => { headers.set(name, value) })
  return {
    headers,
    timeout: next.timeout ?? base.timeout,
    signals: next.signal === undefined ? base.signals : [...base.signals, next.signal],
    onUploadProgress: next.onUploadProgress ?? base.onUploadProgress,
    withCredentials: next.withCredentials ?? base.withCredentials
  }
}
