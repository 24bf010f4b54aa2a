/**
 * Options of resumable uploads, for a client (`createClient(url, { resumable })`), a derived client
 * (`api.$with({ resumable })`) or one call. A file is uploaded resumably when it was wrapped in {@link resumable} or
 * is larger than `above`; the others travel in the call as before.
 *
 * @example
 * ```ts
 * const api = createClient<typeof methods>('/rpc', { resumable: { above: 50 * 1024 * 1024 } })
 * await api.videos.publish({ title: 'Holidays', video: input.files![0] }) // a 2 GB video: tus upload, then the call
 * ```
 */
export interface ResumableOptions {
  /** Files larger than this many bytes are uploaded resumably even when not wrapped in `resumable()`. Absent: only wrapped ones. */
  above?: number
  /**
   * Milliseconds to wait before each retry after a failed upload request (a dropped connection, a 5xx, a 409 offset
   * conflict, a 423, a 429), in order; when they run out the call fails. The list starts over whenever an attempt got
   * bytes stored, so a link that keeps moving never runs out. Default, as in the Node client: exponential backoff,
   * `[0, 500, 1000, 2000, 4000, 8000, 16000, 32000]` (about a minute without progress); `[]` retries never.
   */
  retryDelays?: readonly number[]
  /**
   * Bytes of the file each `PATCH` request carries; default 64 MiB, as in the Node client. Memory does not depend on
   * it (the browser sends each range of the Blob from where it lives); keep it below the request-body limit of any
   * proxy between page and server.
   */
  chunkSize?: number
  /**
   * Keep each unfinished upload's URL and token in `localStorage`, so that the same `File` sent again (after a page
   * reload, from the same `<input>`) resumes where it stopped. Default `true`. Turn it off where scripts of other
   * authors run on the origin, on shared computers, or for sensitive files: any script of the origin can read
   * `localStorage`, and with an upload's URL and token it can bind the upload to a call of its own, delete it, or
   * append to it while unfinished.
   */
  rememberUploads?: boolean
}

/**
 * Options of one file wrapped in {@link resumable}.
 *
 * @example
 * ```ts
 * const recording = resumable(new Blob(chunks, { type: 'video/webm' }), { fingerprint: `recording-${id}` })
 * ```
 */
export interface ResumableFileOptions {
  /**
   * What identifies this file across page reloads, for resuming its upload. Default for a `File`: its name, type,
   * size and last-modified time (what a file picked again from disk keeps); a `Blob` without one is not remembered,
   * as nothing would tell two Blobs of the same size apart.
   */
  fingerprint?: string
}

/** Files made by `resumable()`, with their options. */
const marked = new WeakMap<Blob, ResumableFileOptions>()

/**
 * Marks a file to be uploaded resumably (tus 1.0, to `<call url>/uploads/`) before the call it is passed to, which
 * then binds the finished upload instead of carrying the bytes. Returns a new `File` (or `Blob`) with the same bytes,
 * name, type and last-modified time (no bytes are copied); the original stays an ordinary argument.
 *
 * @example
 * ```ts
 * import { createClient, resumable } from '@formcall/client-browser'
 * const api = createClient<typeof methods>('/rpc')
 * const file = input.files![0]
 * await api.$with({ onUploadProgress: ({ loaded, total }) => { bar.value = loaded / total } })
 *   .videos.publish({ title: 'Holidays', video: resumable(file) })
 * ```
 */
export function resumable<F extends Blob> (file: F, options: ResumableFileOptions = {}): F {
  const tag = Object.prototype.toString.call(file)
  if (tag !== '[object Blob]' && tag !== '[object File]') throw new TypeError(`resumable() takes a File or Blob; got ${tag}`)
  if (options.fingerprint !== undefined && (typeof options.fingerprint !== 'string' || options.fingerprint === '')) {
    throw new TypeError('resumable(file, { fingerprint }) needs a non-empty string')
  }
  const named = file as Blob as File
  const copy = tag === '[object File]'
    ? new File([file], named.name, { type: file.type, lastModified: named.lastModified })
    : new Blob([file], { type: file.type })
  marked.set(copy, { ...options })
  return copy as F
}

/**
 * The options of resumable uploads after merging: every field present.
 *
 * @example
 * ```ts
 * const settings: ResolvedResumable = mergeResumable(DEFAULT_RESUMABLE, { above: 1024 })
 * ```
 */
export interface ResolvedResumable {
  readonly above: number | undefined
  readonly retryDelays: readonly number[]
  readonly chunkSize: number
  readonly rememberUploads: boolean
}

/**
 * The settings of a client that was given no `resumable` option: only `resumable()` files, exponential backoff,
 * 64 MiB per `PATCH`, uploads remembered.
 *
 * @example
 * ```ts
 * DEFAULT_RESUMABLE.chunkSize // 67108864
 * ```
 */
export const DEFAULT_RESUMABLE: ResolvedResumable = {
  above: undefined,
  retryDelays: [0, 500, 1000, 2000, 4000, 8000, 16000, 32000],
  chunkSize: 64 * 1024 * 1024,
  rememberUploads: true
}

/**
 * Lays `next` over `base` field by field; throws a TypeError for a setting of the wrong type, where it was written.
 *
 * @example
 * ```ts
 * mergeResumable(DEFAULT_RESUMABLE, { above: 1024 }).above // 1024
 * ```
 */
export function mergeResumable (base: ResolvedResumable, next: ResumableOptions | undefined): ResolvedResumable {
  if (next === undefined) return base
  if (typeof next !== 'object' || next === null) throw new TypeError('options.resumable must be an object such as { above: 50 * 1024 * 1024 }')
  const { above, retryDelays, chunkSize, rememberUploads } = next
  if (above !== undefined && !(typeof above === 'number' && above >= 0)) {
    throw new TypeError(`options.resumable.above must be a number of bytes >= 0; got ${String(above)}`)
  }
  if (retryDelays !== undefined && !(Array.isArray(retryDelays) && retryDelays.every((delay) => typeof delay === 'number' && delay >= 0))) {
    throw new TypeError('options.resumable.retryDelays must be an array of milliseconds >= 0, such as [0, 1000, 5000]')
  }
  if (chunkSize !== undefined && !(typeof chunkSize === 'number' && chunkSize >= 1)) {
    throw new TypeError(`options.resumable.chunkSize must be a number of bytes >= 1; got ${String(chunkSize)}`)
  }
  if (rememberUploads !== undefined && typeof rememberUploads !== 'boolean') {
    throw new TypeError('options.resumable.rememberUploads must be true or false')
  }
  return {
    above: above ?? base.above,
    retryDelays: retryDelays === undefined ? base.retryDelays : [...retryDelays],
    chunkSize: chunkSize ?? base.chunkSize,
    rememberUploads: rememberUploads ?? base.rememberUploads
  }
}

/**
 * Whether a file of a call goes through a resumable upload, and with which file options; `undefined` when it
 * travels in the call.
 *
 * @example
 * ```ts
 * resumableOptionsOf(resumable(file), DEFAULT_RESUMABLE) // {}
 * resumableOptionsOf(file, DEFAULT_RESUMABLE)            // undefined
 * ```
 */
export function resumableOptionsOf (file: Blob, settings: ResolvedResumable): ResumableFileOptions | undefined {
  const options = marked.get(file)
  if (options !== undefined) return options
  return settings.above !== undefined && file.size > settings.above ? {} : undefined
}
