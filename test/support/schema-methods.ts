/**
 * Methods that declare their params with Standard Schemas (zod 4 and valibot) and file params with constraints, for
 * the schema tests in both modes. File methods report what they read on a BroadcastChannel: the server runs in the
 * test's process, so the test hears its workers too.
 */
import { BroadcastChannel } from 'node:worker_threads'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import * as v from 'valibot'
import { z } from 'zod'
import { defineMethod, file, files, type UploadedFile } from '@formcall/server/methods'

/** The channel file methods report on. */
export const SCHEMA_CHANNEL = 'formcall-schema-methods'

/** What a file method reports: how many bytes it read, and whether the stream ended (or failed). */
export interface ReadReport { method: string, bytes: number, ended: boolean, error?: number }

/** Reads a file to its end, reporting what it saw; rethrows a failure of the stream. */
async function readReporting (method: string, upload: UploadedFile): Promise<number> {
  let bytes = 0
  const report = (ended: boolean, error?: number): void => {
    const port = new BroadcastChannel(SCHEMA_CHANNEL)
    port.postMessage({ method, bytes, ended, ...(error === undefined ? {} : { error }) } satisfies ReadReport)
    port.close()
  }
  try {
    for await (const chunk of upload.stream) bytes += (chunk as Buffer).length
  } catch (err) {
    report(false, (err as { code?: number }).code)
    throw err
  }
  report(true)
  return bytes
}

/** A Standard Schema that throws instead of returning issues: a bug in a validator. */
const throwingSchema: StandardSchemaV1<unknown, unknown> = {
  '~standard': { version: 1, vendor: 'test', validate: () => { throw new Error('validator bug at /srv/secret/path') } }
}

/** A Standard Schema that validates asynchronously. */
const asyncEven: StandardSchemaV1<number, number> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: async (value) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return typeof value === 'number' && value % 2 === 0 ? { value } : { issues: [{ message: 'expected an even number' }] }
    }
  }
}

export default {
  math: {
    add: defineMethod({ params: [z.number(), z.number()], result: z.number() }, (a, b) => a + b),
    half: defineMethod({ params: [asyncEven] }, (n) => n / 2)
  },
  plain: {
    add: (a: number, b: number) => a + b,
    count: (...items: unknown[]) => items.length,
    optional: (a: number, b = 10) => a + b
  },
  users: {
    create: defineMethod({
      params: { name: z.string().min(1), age: z.number().int().nonnegative().optional(), tags: z.array(z.string()).max(3).optional() }
    }, (user) => user),
    rename: defineMethod({ params: z.object({ from: z.string(), to: z.string() }).refine((r) => r.from !== r.to, 'from and to must differ') },
      ({ from, to }) => `${from}→${to}`)
  },
  text: {
    shout: defineMethod({ params: [z.string().transform((s) => s.toUpperCase())] }, (s) => `${s}!`),
    count: defineMethod({ params: { words: z.string().transform((s) => s.split(/\s+/).filter(Boolean)) } }, ({ words }) => words.length)
  },
  valibot: {
    add: defineMethod({ params: [v.number(), v.number()] }, (a, b) => a + b),
    user: defineMethod({ params: { name: v.pipe(v.string(), v.minLength(2)), admin: v.optional(v.boolean()) } }, (u) => u)
  },
  broken: {
    schema: defineMethod({ params: [throwingSchema] }, () => 'unreachable'),
    result: defineMethod({ params: [], result: z.number() }, () => 'not a number' as unknown as number)
  },
  photos: {
    /** One PNG or JPEG of at most 64 KiB, beside a title. */
    store: defineMethod({
      params: { title: z.string().max(40), photo: file({ maxSize: 64 * 1024, accept: ['image/png', 'image/jpeg'] }) }
    }, async ({ title, photo }) => ({ title, type: photo.type, bytes: await readReporting('photos.store', photo) })),
    /** Up to two images of any image type. */
    album: defineMethod({ params: { photos: files({ maxCount: 2, accept: ['image/*'] }) } }, async ({ photos }) => {
      const sizes: number[] = []
      for await (const photo of photos) sizes.push(await readReporting('photos.album', photo))
      return sizes
    }),
    /** An optional cover, positional. */
    cover: defineMethod({ params: [z.string(), file({ optional: true, accept: ['image/png'] })] },
      async (name, cover) => ({ name, cover: cover === undefined ? null : await readReporting('photos.cover', cover) }))
  },
  docs: {
    /** A text file of at most 1 MiB: its type is declared, not sniffed (text has no signature). */
    store: defineMethod({ params: [file({ maxSize: 1024 * 1024, accept: ['text/plain'] })] },
      async (doc) => await readReporting('docs.store', doc))
  }
}
