import type { Agent } from 'node:http'
import { isAbsolute, resolve } from 'node:path'
import { mergeOptions, noOptions, type HeaderEntry, type MergedOptions } from '@formcall/spec/client'
import type { CallOptions, ResumableOptions, UploadProgress } from './types.js'

/** {@link ResumableOptions} with defaults applied. */
export interface ResolvedResumable {
  /** Files on disk larger than this go resumably; `undefined`: only those marked `resumable: true`. */
  readonly above: number | undefined
  readonly chunkSize: number
  readonly retryDelays: readonly number[]
  /** An absolute path, or `undefined` for no storage across processes. */
  readonly storePath: string | undefined
}

/** Client and call options folded into what one call uses: the shared ones, plus the connection's agent. */
export interface ResolvedOptions extends MergedOptions<UploadProgress> {
  agent: Agent | undefined
  resumable: ResolvedResumable
}

/** 64 MiB: few PATCH round trips per GiB, and under common proxy body limits (e.g. 100 MB). */
const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024
/** Exponential backoff from half a second, about a minute in all before a call gives up on a server. */
const DEFAULT_RETRY_DELAYS: readonly number[] = Object.freeze([0, 500, 1000, 2000, 4000, 8000, 16000, 32000])

/** The resumable settings of a client created without any. */
const DEFAULT_RESUMABLE: ResolvedResumable = Object.freeze({
  above: undefined,
  chunkSize: DEFAULT_CHUNK_SIZE,
  retryDelays: DEFAULT_RETRY_DELAYS,
  storePath: undefined
})

/**
 * No options yet: the base every client's options are layered on.
 *
 * @example
 * ```ts
 * const clientOptions = resolveOptions(NO_OPTIONS, { timeout: 60_000 })
 * ```
 */
export const NO_OPTIONS: ResolvedOptions = Object.freeze({ ...noOptions<UploadProgress>(), agent: undefined, resumable: DEFAULT_RESUMABLE })

/**
 * Layers `extra` over `base` by the shared rule (`mergeOptions` of `@formcall/spec/client`: headers merge, signals add
 * up, other settings replace), and `agent` and `resumable` replace the earlier ones when given.
 *
 * Throws a TypeError for a setting of the wrong type, so a typo fails where it was written.
 *
 * @example
 * ```ts
 * const options = resolveOptions(resolveOptions(NO_OPTIONS, { timeout: 5_000 }), { headers: { 'x-trace': id } })
 * ```
 */
export function resolveOptions (base: ResolvedOptions, extra: CallOptions | undefined): ResolvedOptions {
  if (extra === undefined) return base
  const merged = mergeOptions(base, extra, headerEntries)
  return {
    ...merged,
    agent: extra.agent ?? base.agent,
    resumable: extra.resumable === undefined ? base.resumable : resolveResumable(extra.resumable)
  }
}

/** Node's header form is a record of names to a value or a list of values (each sent as its own header line). */
function headerEntries (headers: Record<string, string | string[]>): Iterable<HeaderEntry> {
  if (typeof headers !== 'object' || headers === null) throw new TypeError('options.headers must be an object of header names to values')
  return Object.entries(headers)
}

function resolveResumable (options: ResumableOptions | false): ResolvedResumable {
  if (options === false) return DEFAULT_RESUMABLE
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options.resumable must be an object such as { above: 64 * 2 ** 20 }, or false; got ${options === null ? 'null' : typeof options}`)
  }
  const { above, chunkSize, retryDelays, storePath } = options
  if (above !== undefined && !(typeof above === 'number' && Number.isFinite(above) && above >= 0)) {
    throw new TypeError(`options.resumable.above must be a number of bytes >= 0; got ${String(above)}`)
  }
  if (chunkSize !== undefined && chunkSize !== Infinity && !(Number.isSafeInteger(chunkSize) && chunkSize > 0)) {
    throw new TypeError(`options.resumable.chunkSize must be a whole number of bytes > 0, or Infinity; got ${String(chunkSize)}`)
  }
  if (retryDelays !== undefined && !(Array.isArray(retryDelays) &&
      retryDelays.every((delay) => typeof delay === 'number' && Number.isFinite(delay) && delay >= 0))) {
    throw new TypeError('options.resumable.retryDelays must be an array of milliseconds >= 0, e.g. [0, 1000, 3000]')
  }
  if (storePath !== undefined && (typeof storePath !== 'string' || storePath === '')) {
    throw new TypeError('options.resumable.storePath must be the path of a JSON file to keep unfinished uploads in')
  }
  return Object.freeze({
    above,
    chunkSize: chunkSize ?? DEFAULT_CHUNK_SIZE,
    retryDelays: retryDelays === undefined ? DEFAULT_RETRY_DELAYS : Object.freeze([...retryDelays]),
    storePath: storePath === undefined ? undefined : isAbsolute(storePath) ? storePath : resolve(storePath)
  })
}
