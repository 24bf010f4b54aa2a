import type { Executor } from '../dispatch/executor.js'
import { openRpcDocument, type OpenRpcInfo } from './openrpc.js'

/** The document's `info` when the `discover` option leaves it out. */
export const DEFAULT_INFO: Readonly<OpenRpcInfo> = Object.freeze({ title: 'formcall', version: '0.0.0' })

/** What the `discover` option takes besides `true` and `false`: the OpenRPC document's `info`. */
export interface DiscoverOptions {
  /** The service's name (`info.title`). Default `formcall`. */
  readonly title?: string
  /** The version of the service's API (`info.version`, not formcall's). Default `0.0.0`: unversioned. */
  readonly version?: string
  /** What the service is for (`info.description`; Markdown). */
  readonly description?: string
}

/**
 * The `info` of the server's document, or undefined when discovery is off (`discover: false`).
 *
 * @throws TypeError when the option is neither a boolean nor an object of non-empty strings.
 * @example
 * ```ts
 * discoveryInfo({ title: 'files' }) // { title: 'files', version: '0.0.0' }
 * ```
 */
export function discoveryInfo (option: boolean | DiscoverOptions | undefined): OpenRpcInfo | undefined {
  if (option === false) return undefined
  if (option === undefined || option === true) return DEFAULT_INFO
  if (typeof option !== 'object' || option === null) {
    throw new TypeError(`discover must be true, false or { title, version, description }, got ${String(option)}`)
  }
  const text = (name: keyof DiscoverOptions): string | undefined => {
    const value = option[name]
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new TypeError(`discover.${name} must be a non-empty string, got ${JSON.stringify(value) ?? String(value)}`)
    }
    return value
  }
  const description = text('description')
  return {
    title: text('title') ?? DEFAULT_INFO.title,
    version: text('version') ?? DEFAULT_INFO.version,
    ...(description === undefined ? {} : { description })
  }
}

/**
 * What answers `rpc.discover` on a server: the JSON text of its OpenRPC document, made at the first call and kept
 * (a failure is not kept: the next call tries again). Undefined when the executor cannot describe its methods (a
 * custom executor without `describe`): the name is then looked up like any other.
 *
 * @example
 * ```ts
 * const discover = discoveryAnswer(executor, { title: 'files', version: '1.0.0' })
 * ```
 */
export function discoveryAnswer (executor: Executor, info: OpenRpcInfo): (() => Promise<string>) | undefined {
  if (executor.describe === undefined) return undefined
  const describe = executor.describe.bind(executor)
  let text: Promise<string> | undefined
  return async () => {
    if (text === undefined) {
      const made = describe().then((description) => JSON.stringify(openRpcDocument(description, info)))
      text = made
      made.catch(() => {
        if (text === made) text = undefined
      })
    }
    return await text
  }
}
