import type { Agent } from 'node:http'
import { mergeOptions, noOptions, type HeaderEntry, type MergedOptions } from '@formcall/spec/client'
import type { CallOptions, UploadProgress } from './types.js'

/** Client and call options folded into what one call uses: the shared ones, plus the connection's agent. */
export interface ResolvedOptions extends MergedOptions<UploadProgress> {
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
export const NO_OPTIONS: ResolvedOptions = Object.freeze({ ...noOptions<UploadProgress>(), agent: undefined })

/**
 * Layers `extra` over `base` by the shared rule (`mergeOptions` of `@formcall/spec/client`: headers merge, signals add
 * up, other settings replace), and `agent` replaces the earlier one when given.
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
  return { ...merged, agent: extra.agent ?? base.agent }
}

/** Node's header form is a record of names to a value or a list of values (each sent as its own header line). */
function headerEntries (headers: Record<string, string | string[]>): Iterable<HeaderEntry> {
  if (typeof headers !== 'object' || headers === null) throw new TypeError('options.headers must be an object of header names to values')
  return Object.entries(headers)
}
