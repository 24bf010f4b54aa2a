import { mergeOptions, noOptions, type MergedOptions } from '@formcall/spec/client'
import { DEFAULT_RESUMABLE, mergeResumable } from './resumable.js'
import type { ResolvedResumable, ResumableOptions } from './resumable.js'

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
  /**
   * Resumable uploads (tus, before the call) for files wrapped in `resumable()` and files larger than `above`;
   * merged field by field over earlier options. See `ResumableOptions`.
   */
  resumable?: ResumableOptions
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
 * Options after merging, in the form the sender uses: the shared ones (`MergedOptions` of `@formcall/spec/client`),
 * `withCredentials` and the resumable-upload settings.
 *
 * @example
 * ```ts
 * const resolved: ResolvedCallOptions = mergeCallOptions(noCallOptions(), { signal })
 * resolved.signals // [signal]
 * ```
 */
export interface ResolvedCallOptions extends MergedOptions<UploadProgress> {
  readonly withCredentials: boolean
  readonly resumable: ResolvedResumable
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
  return { ...noOptions<UploadProgress>(), withCredentials: false, resumable: DEFAULT_RESUMABLE }
}

/**
 * Lays `next` over `base` without changing either, by the rule both clients share (`mergeOptions`); a later
 * `withCredentials` replaces an earlier one, and `resumable` is merged field by field.
 *
 * @example
 * ```ts
 * const merged = mergeCallOptions(noCallOptions(), { timeout: 5000 })
 * merged.timeout // 5000
 * ```
 */
export function mergeCallOptions (base: ResolvedCallOptions, next: CallOptions | undefined): ResolvedCallOptions {
  if (next === undefined) return base
  // Headers parses every HeadersInit form (a record, a list of pairs, a Headers) and lower-cases the names.
  const merged = mergeOptions(base, next, (init: HeadersInit) => new Headers(init))
  return {
    ...merged,
    withCredentials: next.withCredentials ?? base.withCredentials,
    resumable: mergeResumable(base.resumable, next.resumable)
  }
}
