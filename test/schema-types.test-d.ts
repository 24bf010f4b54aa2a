/**
 * Type tests for schema-declared methods: checked by `tsc` (the root tsconfig includes this folder), never run. The
 * typed clients take the schemas' input types as params and return the result schema's output; the method's own
 * function gets the output types. Each `@ts-expect-error` line must fail to compile, and each `Equal` must hold.
 */
import * as v from 'valibot'
import { z } from 'zod'
import { defineMethod, file, files, type UploadedFile, type UploadedFiles } from '@formcall/server/methods'
import { createClient } from '@formcall/client-node'
import { createClient as createBrowserClient } from '@formcall/client-browser'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectEqual<A, B> (_proof: Equal<A, B>): void {}

const methods = {
  add: defineMethod({ params: [z.number(), z.number()], result: z.number() }, (a, b) => {
    expectEqual<typeof a, number>(true)
    return a + b
  }),
  /** Input and output types differ: the client sends a string, the method gets a number, the client gets a string. */
  parse: defineMethod({ params: [z.string().transform(Number)], result: z.number().transform(String) }, (n) => {
    expectEqual<typeof n, number>(true)
    return n * 2
  }),
  create: defineMethod({ params: { name: z.string(), age: z.number().optional() } }, (user) => {
    expectEqual<typeof user, { name: string, age?: number | undefined }>(true)
    return { id: 1, ...user }
  }),
  options: defineMethod({ params: { verbose: z.boolean().optional() } }, ({ verbose }) => verbose === true),
  store: defineMethod({ params: { title: z.string(), photo: file({ accept: ['image/png'] }), cover: file({ optional: true }) } },
    async ({ photo, cover }) => {
      expectEqual<typeof photo, UploadedFile>(true)
      expectEqual<typeof cover, UploadedFile | undefined>(true)
      return photo.filename
    }),
  album: defineMethod({ params: [files({ maxCount: 3 })] }, (photos) => {
    expectEqual<typeof photos, UploadedFiles>(true)
    return 1
  }),
  whole: defineMethod({ params: z.object({ a: z.number() }) }, ({ a }) => a),
  vali: defineMethod({ params: [v.pipe(v.string(), v.transform((s) => s.length))] }, (length) => {
    expectEqual<typeof length, number>(true)
    return length
  }),
  none: defineMethod({}, () => 'ok')
}

const api = createClient<typeof methods>('http://localhost:8080/rpc')

expectEqual<Parameters<typeof api.add>, [number, number]>(true)
expectEqual<ReturnType<typeof api.add>, Promise<number>>(true)
expectEqual<Parameters<typeof api.parse>, [string]>(true)
expectEqual<ReturnType<typeof api.parse>, Promise<string>>(true)
expectEqual<ReturnType<typeof api.create>, Promise<{ id: number, name: string, age?: number | undefined }>>(true)
expectEqual<ReturnType<typeof api.store>, Promise<string | null>>(true)
expectEqual<Parameters<typeof api.vali>, [string]>(true)
expectEqual<ReturnType<typeof api.none>, Promise<string>>(true)
void api.create({ name: 'ada' })
void api.options()
void api.whole({ a: 1 })
void api.store({ title: 't', photo: new Blob(['x']) })
void api.store({ title: 't', photo: Buffer.from('x'), cover: new File(['x'], 'c.png') })
void api.album([new Blob(['a']), new Blob(['b'])])

// @ts-expect-error the input of a transform is a string, not its output
void api.parse(1)
// @ts-expect-error a required named param is missing
void api.create({ age: 3 })
// @ts-expect-error a named param of the wrong type
void api.create({ name: 1 })
// @ts-expect-error a file param takes a file, not a string
void api.store({ title: 't', photo: 'photo.png' })
// @ts-expect-error a required file param is missing
void api.store({ title: 't' })
// @ts-expect-error a positional method's params are positional
void api.add({ a: 1, b: 2 })

// The browser client maps file params to its own file-likes.
const browser = createBrowserClient<typeof methods>('/rpc')
void browser.store({ title: 't', photo: new Blob(['x']) })
expectEqual<ReturnType<typeof browser.add>, Promise<number>>(true)

// @ts-expect-error the method's function must return what the result schema takes
defineMethod({ params: [], result: z.number() }, () => 'text')
// @ts-expect-error the function's params are the schemas' outputs
defineMethod({ params: [z.string()] }, (n: number) => n)
