/**
 * Methods in every form discovery describes, for the discovery tests in both modes and for `formcall describe`:
 * positional, named and whole params in zod 4 and valibot (with and without its JSON Schema converter), file params
 * with constraints, a recursive schema, an asynchronous one, and plain functions.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { toStandardJsonSchema } from '@valibot/to-json-schema'
import * as v from 'valibot'
import { z } from 'zod'
import { defineMethod, file, files } from '@formcall/server/methods'

/** A tree of names: recursive, so its JSON Schema refers to itself. */
interface Tree { name: string, children: Tree[] }
const TreeNode: z.ZodType<Tree> = z.object({
  name: z.string(),
  get children () { return z.array(TreeNode) }
})

/** A Standard Schema that validates asynchronously (and publishes no JSON Schema). */
const asyncEven: StandardSchemaV1<number, number> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: async (value) => typeof value === 'number' && value % 2 === 0 ? { value } : { issues: [{ message: 'expected an even number' }] }
  }
}

const depth = (tree: Tree): number => 1 + Math.max(0, ...tree.children.map(depth))

export default {
  math: {
    add: defineMethod({
      params: [z.number(), z.number().optional()],
      result: z.number(),
      summary: 'Adds two numbers',
      description: 'The second one is 0 when left out.'
    }, (a, b) => a + (b ?? 0)),
    // An optional param before a required one: by position it cannot be left out.
    scale: defineMethod({ params: [z.number().optional(), z.number()] }, (factor, value) => (factor ?? 1) * value),
    half: defineMethod({ params: [asyncEven] }, (n) => n / 2)
  },
  users: {
    create: defineMethod({
      params: { tags: z.array(z.string()).max(3).optional(), name: z.string().min(1), age: z.number().int().optional() },
      result: z.object({ name: z.string() })
    }, (user) => ({ name: user.name })),
    rename: defineMethod({ params: z.object({ from: z.string(), to: z.string() }) }, ({ from, to }) => `${from}→${to}`)
  },
  text: {
    // The result's output is made by a transform, which JSON Schema cannot say: the result is described as any value.
    length: defineMethod({ params: [z.string().transform((s) => s.trim())], result: z.number().transform(String) }, (s) => s.length)
  },
  valibot: {
    described: defineMethod({ params: [toStandardJsonSchema(v.pipe(v.string(), v.minLength(2)))] }, (s) => s),
    bare: defineMethod({ params: { flag: v.optional(v.boolean()), count: v.number() } }, ({ count }) => count)
  },
  files: {
    store: defineMethod({
      params: {
        title: z.string(),
        photo: file({ maxSize: 1000, accept: ['image/png'] }),
        extras: files({ maxCount: 3, optional: true })
      }
    }, async ({ title, photo }) => ({ title, bytes: (await photo.bytes()).length }))
  },
  tree: {
    depth: defineMethod({ params: [TreeNode], result: z.number() }, (node) => depth(node)),
    pair: defineMethod({ params: z.object({ left: TreeNode, right: TreeNode }) }, ({ left, right }) => depth(left) + depth(right))
  },
  plain: {
    add: (a: number, b: number) => a + b,
    count: (first: unknown, ...rest: unknown[]) => [first, ...rest].length
  }
}
