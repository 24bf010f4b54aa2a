import type { Agent } from 'node:http'
import type { CallOptions, UploadProgress } from './types.js'

/** Client and call options folded into what one call uses. */
export interface ResolvedOptions {
  /** Header names lower-cased, so a later `Authorization` replaces an earlier `authorization`. */
  headers: Record<string, string | string[]>
  timeout: number | undefined
  /** Every signal given on the way (client, `$with`, call): any of them aborts the call. */
  signals: readonly AbortSignal[]
  onUploadProgress: ((progress: UploadProgress) => void) | undefined
  agent: Agent | undefined
}

/**
 * No options yet: the base every client's options are layered on.
 *
 * @example
 * ```ts
 * const clientOptions = resolveOptions(NO_OPTIONS, { timeout: 60_000 })
 * ```
 */
export const NO_OPTIONS: ResolvedOptions = Object.freeze({
  headers: Object.freeze({}) as Record<string, string | string[]>,
  timeout: undefined,
  signals: Object.freeze([]) as readonly AbortSignal[],
  onUploadProgress: undefined,
  agent: undefined
})

/**
 * Layers `extra` over `base`: `extra`'s headers are merged in, its other settings replace `base`'s, except signals,
 * which add up (a client-wide shutdown signal must still apply to a call that brings its own).
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
  if (typeof extra !== 'object' || extra === null) throw new TypeError(`options must be an object; got ${extra === null ? 'null' : typeof extra}`)
  const { headers, timeout, signal, onUploadProgress, agent } = extra

  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0)) {
    throw new TypeError(`options.timeout must be a number of milliseconds ≥ 0 (0 for no limit); got ${String(timeout)}`)
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError('options.signal must be an AbortSignal (e.g. from new AbortController() or AbortSignal.timeout(ms))')
  }
  if (onUploadProgress !== undefined && typeof onUploadProgress !== 'function') {
    throw new TypeError(`options.onUploadProgress must be a function; got ${typeof onUploadProgress}`)
  }

  const merged: Record<string, string | string[]> = { ...base.headers }
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null) throw new TypeError('options.headers must be an object of header names to values')
    for (const [name, value] of Object.entries(headers)) merged[name.toLowerCase()] = value
  }
  return {
    headers: merged,
    timeout: timeout ?? base.timeout,
    signals: signal === undefined ? base.signals : [...base.signals, signal],
    onUploadProgress: onUploadProgress ?? base.onUploadProgress,
    agent: agent ?? base.agent
  }
}
