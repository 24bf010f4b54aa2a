import type { UploadedFile } from '@formcall/server'
import { serverMethodsPackage } from '../support/packages.js'

/**
 * The methods every formcall bench server exposes (`methods.mjs` is the same as plain JavaScript, for the worker
 * rows). They do the least a real method would: `sink` reads its file to the end (counting bytes, so the run can
 * check nothing was lost), `echo` returns its argument, and with `schemas`, `echoZod` is that echo with its param
 * declared as a zod string, so the small-call table can set what checking params costs beside `echo` (only that
 * row's server loads zod: `methods-schemas.mjs` is its worker module).
 *
 * Loaded, not built at import: `defineMethod` is the installed package's (support/packages.ts), which is known only
 * once `pnpm bench` has installed it.
 */
export async function loadMethods ({ schemas = false } = {}) {
  const plain = {
    async sink (file: UploadedFile): Promise<{ bytes: number }> {
      let bytes = 0
      for await (const chunk of file) bytes += chunk.length
      return { bytes }
    },

    echo (value: unknown): unknown {
      return value
    }
  }
  if (!schemas) return plain
  const [{ defineMethod }, { z }] = await Promise.all([serverMethodsPackage(), import('zod')])
  return { ...plain, echoZod: defineMethod({ params: [z.string()] }, (value) => value) }
}

/** The bench's methods object, for the typed clients of the load processes. */
export type BenchMethodsObject = Awaited<ReturnType<typeof loadMethods>>
