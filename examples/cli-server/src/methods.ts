import { createHash } from 'node:crypto'
// The package's entry for methods modules: what a method uses, without the HTTP server (Fastify, the worker pool), so
// each worker thread that imports this module loads only that.
import { callContext, defineMethod, download, ErrorCode, file, RpcError, type UploadedFile } from '@formcall/server/methods'
import { z } from 'zod'

/** An application error code of this app's own: codes outside formcall's registry answer with HTTP 400. */
export const OUT_OF_STOCK = 4001

// Read-only: in worker mode (the default) each call runs in one of several threads, so module state is per worker.
const STOCK: Readonly<Record<string, number>> = { apple: 3, pear: 0 }
const PRICE = { apple: 2, pear: 3 } as const

// The default export is what `formcall serve` serves: functions are methods, nested objects are namespaces.
// The declaration (.d.ts) tsc writes beside dist/methods.js is what a typed client imports.
export default {
  echo: (text: string): string => text,

  math: {
    add: (a: number, b: number): number => a + b
  },

  files: {
    /** Hashes the upload while it arrives: nothing is buffered, so the size of the file does not matter. */
    async digest (file: UploadedFile): Promise<{ name: string | null, size: number, sha256: string }> {
      // The call's context (logger, headers, abort signal) is not an argument: the params are exactly what was sent.
      callContext().log.info({ field: file.field }, 'hashing an upload')
      const hash = createHash('sha256')
      let size = 0
      for await (const chunk of file) {
        hash.update(chunk)
        size += chunk.length
      }
      return { name: file.filename, size, sha256: hash.digest('hex') }
    },

    /**
     * A declared file param: a PNG or JPEG of at most 1 MiB, held to that while it streams (a larger one fails at its
     * 1 MiB + 1st byte, another type before the method reads a byte).
     */
    avatar: defineMethod({ params: [file({ maxSize: 2 ** 20, accept: ['image/png', 'image/jpeg'] })], summary: 'Measures an avatar image' },
      async (image) => ({ type: image.type, bytes: (await image.bytes()).length })),

    /** A file as the result: the client gets it as a download, not as JSON. */
    report: (month: string) =>
      download(Buffer.from(`month,total\n${month},1234\n`), { filename: `report-${month}.csv`, type: 'text/csv' })
  },

  shop: {
    reserve (item: string, count: number): { item: string, reserved: number } {
      const inStock = STOCK[item]
      // A registered code: the client's RpcError has codeName 'INVALID_PARAMS', the HTTP status is 400.
      if (inStock === undefined) throw new RpcError(ErrorCode.INVALID_PARAMS, `no item "${item}"; try one of ${Object.keys(STOCK).join(', ')}`)
      // The app's own code, with data the client can act on.
      if (count > inStock) throw new RpcError(OUT_OF_STOCK, `only ${inStock} of "${item}" in stock; reserve fewer`, { item, inStock })
      return { item, reserved: count }
    },

    /**
     * Declared params (any Standard Schema library; zod here): checked before the method runs, so it gets only an item
     * that exists and a count from 1 to 10; anything else is -32602 with the schema's issues in `data.issues`.
     */
    order: defineMethod({
      params: { item: z.enum(['apple', 'pear']), count: z.number().int().min(1).max(10) },
      summary: 'Orders up to ten of an item'
    }, ({ item, count }) => ({ item, count, total: count * PRICE[item] }))
  }
}
