/**
 * The options both clients take for a call, a client (`createClient(url, options)`) or a derived client
 * (`api.$with(options)`), as a caller writes them. `Headers` is each client's own header form (a record in Node,
 * `HeadersInit` in a browser); `Progress` its upload-progress event.
 *
 * @example
 * ```ts
 * const options: SharedCallOptions<Record<string, string>, { loaded: number }> = { timeout: 5_000, headers: { 'x-trace': 't1' } }
 * ```
 */
export interface SharedCallOptions<Headers, Progress> {
  /** Extra request headers, merged name by name (case-insensitively) over earlier ones. */
  headers?: Headers
  /** Milliseconds the call may take; `0` or absent means no limit. */
  timeout?: number
  /** Aborts the call; signals given at every level (client, `$with`, call) all apply. */
  signal?: AbortSignal
  /** Called as the request body is sent. */
  onUploadProgress?: (progress: Progress) => void
}

/**
 * Options after merging, in the form the transports use.
 *
 * @example
 * ```ts
 * const merged: MergedOptions<{ loaded: number }> = noOptions()
 * merged.headers.size // 0
 * ```
 */
export interface MergedOptions<Progress> {
  /** Header names lower-cased, in the order they were first given; a later value replaced an earlier one. */
  readonly headers: ReadonlyMap<string, string | string[]>
  /** Milliseconds; `0` for no limit. */
  readonly timeout: number
  /** Every signal given along the way: any of them aborts the call. */
  readonly signals: readonly AbortSignal[]
  readonly onUploadProgress: ((progress: Progress) => void) | undefined
}

/** One header as a client's header form yields it. */
export type HeaderEntry = readonly [name: string, value: string | string[]]

/**
 * The options of a client created without any: no headers, no timeout, no signal, no progress listener.
 *
 * @example
 * ```ts
 * const clientOptions = mergeOptions(noOptions(), { timeout: 60_000 }, Object.entries)
 * ```
 */
export function noOptions<Progress> (): MergedOptions<Progress> {
  return { headers: new Map(), timeout: 0, signals: [], onUploadProgress: undefined }
}

/**
 * Lays `layer` over `base` without changing either: headers merge name by name (the later value wins), signals add up
 * (a client-wide shutdown signal must still apply to a call that brings its own), `timeout` and `onUploadProgress`
 * replace earlier ones when given. `headerEntries` turns the client's header form into entries.
 *
 * Throws a TypeError for a setting of the wrong type, so a typo fails where it was written rather than at the first
 * call.
 *
 * @example
 * ```ts
 * const merged = mergeOptions(noOptions(), { timeout: 5000, headers: { Authorization: 'Bearer t' } }, Object.entries)
 * merged.headers.get('authorization') // 'Bearer t'
 * ```
 */
export function mergeOptions<Progress, Headers> (
  base: MergedOptions<Progress>,
  layer: SharedCallOptions<Headers, Progress> | undefined,
  headerEntries: (headers: Headers) => Iterable<HeaderEntry>
): MergedOptions<Progress> {
  if (layer === undefined) return base
  if (typeof layer !== 'object' || layer === null) throw new TypeError(`options must be an object; got ${layer === null ? 'null' : typeof layer}`)
  const { headers, timeout, signal, onUploadProgress } = layer
  assertTimeout(timeout)
  assertSignal(signal)
  if (onUploadProgress !== undefined && typeof onUploadProgress !== 'function') {
    throw new TypeError(`options.onUploadProgress must be a function; got ${typeof onUploadProgress}`)
  }
  return {
    headers: headers === undefined ? base.headers : mergeHeaders(base.headers, headerEntries(headers)),
    timeout: timeout ?? base.timeout,
    signals: signal === undefined ? base.signals : [...base.signals, signal],
    onUploadProgress: onUploadProgress ?? base.onUploadProgress
  }
}

function mergeHeaders (base: ReadonlyMap<string, string | string[]>, entries: Iterable<HeaderEntry>): Map<string, string | string[]> {
  const merged = new Map(base)
  for (const [name, value] of entries) merged.set(name.toLowerCase(), value)
  return merged
}

function assertTimeout (timeout: unknown): void {
  if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout >= 0)) {
    throw new TypeError(`timeout must be a number of milliseconds >= 0 (0 means none), got ${String(timeout)}`)
  }
}

/** By shape rather than `instanceof`, so that a signal from another realm (an iframe, a vm context) is accepted. */
function assertSignal (signal: unknown): void {
  if (signal === undefined) return
  const s = signal as Partial<AbortSignal> | null
  if (typeof s !== 'object' || s === null || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
    throw new TypeError('options.signal must be an AbortSignal (e.g. from new AbortController() or AbortSignal.timeout(ms))')
  }
}
