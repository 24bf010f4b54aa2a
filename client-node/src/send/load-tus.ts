import type * as Tus from 'tus-js-client'

let loading: Promise<typeof Tus> | undefined

/**
 * tus-js-client, imported on first use: a client that never uploads resumably does not pay for loading it (about
 * 60 ms and 12 MiB of RSS at start).
 *
 * @example
 * ```ts
 * const tus = await loadTus()
 * const upload = new tus.Upload(file, options)
 * ```
 */
export async function loadTus (): Promise<typeof Tus> {
  loading ??= import('tus-js-client')
  return await loading
}
