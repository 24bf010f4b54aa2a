/**
 * Checks, without a static import, that @formcall/client-node (compiled) loads and exports createClient, so that a broken or
 * unfinished client package turns its rows into "not measured" (with the reason) instead of stopping the bench.
 */

import { clientNodePackage } from '../support/packages.js'

/** The part of client-node's API the check looks for. */
interface ClientNodeModule {
  createClient: (url: string) => unknown
}

/** `undefined` when the client can be used, else the reason it cannot. */
export async function clientNodeUnavailable (): Promise<string | undefined> {
  let module: Partial<ClientNodeModule>
  try {
    module = await clientNodePackage() as Partial<ClientNodeModule>
  } catch (err) {
    return `@formcall/client-node cannot be loaded (${firstLine((err as Error).message)})`
  }
  if (typeof module.createClient !== 'function') {
    return '@formcall/client-node does not export createClient'
  }
  return undefined
}

function firstLine (text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 160)
}
