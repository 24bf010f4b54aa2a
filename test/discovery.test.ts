import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import { Ajv, type ValidateFunction } from 'ajv'
import { ERROR_REGISTRY, ErrorCode, RpcError } from '@formcall/spec'
import { createServer, type CreateServerOptions } from '@formcall/server'
import discoveryMethods from './support/discovery-methods.js'
import { multipartBody, multipartType } from './support/multipart.js'
import { postJson, rawRequest } from './support/raw-http.js'
import { startServer, type RunningServer } from './support/start-server.js'

// The package's types declare the document's types only, not the schema it exports.
const openRpcMetaSchema = createRequire(import.meta.url)('@open-rpc/meta-schema').openrpcDocument as Record<string, unknown>
const METHODS_MODULE = new URL('./support/discovery-methods.ts', import.meta.url)
const MODES = ['inline', 'worker'] as const
type Mode = (typeof MODES)[number]

/** The method names the test module defines, in its order: `rpc.discover` itself is not among them. */
const METHOD_NAMES = [
  'math.add', 'math.scale', 'math.half', 'users.create', 'users.rename', 'text.length', 'valibot.described',
  'valibot.bare', 'files.store', 'tree.depth', 'tree.pair', 'plain.add', 'plain.count'
]

function serverOptions (mode: Mode, extra: Omit<CreateServerOptions, 'tmpDir'> = {}): Omit<CreateServerOptions, 'tmpDir'> {
  return mode === 'inline' ? { methods: discoveryMethods, ...extra } : { methodsModule: METHODS_MODULE, workers: 1, ...extra }
}

/**
 * A validator of OpenRPC documents: the meta-schema of @open-rpc/meta-schema (draft-07). Its schemas refer to
 * https://meta.json-schema.tools, a draft-07 meta-schema of JSON Schemas, which is stood in for here by draft-07's own
 * (with the one definition the OpenRPC meta-schema reaches into), so nothing is fetched.
 */
function openRpcValidator (): ValidateFunction {
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true })
  // The meta-schema names it with and without the trailing slash.
  for (const id of ['https://meta.json-schema.tools', 'https://meta.json-schema.tools/']) {
    ajv.addSchema({
      $id: id,
      definitions: { JSONSchemaObject: { properties: { $ref: { type: 'string', format: 'uri-reference' } } } },
      allOf: [{ $ref: 'http://json-schema.org/draft-07/schema#' }]
    })
  }
  const { $schema: _, ...metaSchema } = openRpcMetaSchema
  return ajv.compile(metaSchema)
}

/** Every `$ref` in `value` that points into the document (`#/…`), with the path where it is. */
function localRefs (value: unknown, path = ''): Array<{ path: string, ref: string }> {
  if (typeof value !== 'object' || value === null) return []
  const found: Array<{ path: string, ref: string }> = []
  for (const [key, member] of Object.entries(value)) {
    if (key === '$ref' && typeof member === 'string' && member.startsWith('#')) found.push({ path, ref: member })
    else found.push(...localRefs(member, `${path}/${key}`))
  }
  return found
}

/** What a JSON Pointer fragment (`#/a/b`) names in `doc`, or undefined. */
function resolvePointer (doc: unknown, ref: string): unknown {
  let target: unknown = doc
  for (const token of ref.slice(2).split('/')) {
    const key = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~')
    if (typeof target !== 'object' || target === null || !Object.hasOwn(target, key)) return undefined
    target = (target as Record<string, unknown>)[key]
  }
  return target
}

async function discover (url: string, call: Record<string, unknown> = { jsonrpc: '2.0', method: 'rpc.discover', id: 1 }): Promise<{ status: number, body: any, text: string }> {
  const response = await postJson(url, call)
  return { status: response.status, body: response.json(), text: response.text }
}

for (const mode of MODES) {
  describe(`rpc.discover (${mode})`, () => {
    let server: RunningServer
    let doc: any
    const method = (name: string): any => doc.methods.find((m: { name: string }) => m.name === name)

    before(async () => {
      server = await startServer(serverOptions(mode))
      const { status, body } = await discover(server.url)
      assert.equal(status, 200, JSON.stringify(body))
      doc = body.result
    })
    after(async () => { await server.close() })

    it('answers a plain HTTP POST with an OpenRPC 1.3.2 document that the OpenRPC meta-schema accepts', () => {
      const validate = openRpcValidator()
      assert.equal(validate(doc), true, JSON.stringify(validate.errors, null, 2))
      // The validator does refuse what is not OpenRPC: a method without params, a param whose schema is not one.
      assert.equal(validate({ ...doc, methods: [{ name: 'x', result: { name: 'result', schema: {} } }] }), false)
      assert.equal(validate({ ...doc, methods: [{ name: 'x', params: [{ name: 'a', schema: { type: 42 } }], result: { name: 'result', schema: {} } }] }), false)
      assert.equal(doc.openrpc, '1.3.2')
      assert.deepEqual(doc.info, { title: 'formcall', version: '0.0.0' })
      assert.deepEqual(doc.methods.map((m: { name: string }) => m.name), METHOD_NAMES)
    })

    it('describes positional params by name and position, an optional one before a required one as required', () => {
      assert.deepEqual(method('math.add'), {
        name: 'math.add',
        summary: 'Adds two numbers',
        description: 'The second one is 0 when left out.',
        params: [
          { name: 'a', schema: { type: 'number' }, required: true },
          { name: 'b', schema: { type: 'number' }, required: false }
        ],
        result: { name: 'result', schema: { type: 'number' } },
        paramStructure: 'either',
        errors: [{ $ref: '#/components/errors/INVALID_PARAMS' }]
      })
      assert.deepEqual(method('math.scale').params.map((p: any) => [p.name, p.required]), [['factor', true], ['value', true]])
      // An asynchronous schema cannot be asked synchronously whether it takes nothing: the param counts as required.
      assert.deepEqual(method('math.half').params, [{ name: 'n', schema: {}, required: true }])
    })

    it('describes named params by name, the required ones first; a whole-params schema as the one positional param', () => {
      const create = method('users.create')
      assert.equal(create.paramStructure, 'by-name')
      assert.deepEqual(create.params.map((p: any) => [p.name, p.required]), [['name', true], ['tags', false], ['age', false]])
      assert.deepEqual(create.params[0].schema, { type: 'string', minLength: 1 })
      assert.equal(create.result.schema.type, 'object')
      const rename = method('users.rename')
      assert.equal(rename.paramStructure, 'by-position')
      assert.deepEqual(rename.params, [{
        name: 'params',
        schema: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } }, required: ['from', 'to'] },
        required: true
      }])
    })

    it('takes params from a schema\'s input side and the result from its output side, {} where JSON Schema cannot say', () => {
      const length = method('text.length')
      assert.deepEqual(length.params[0].schema, { type: 'string' })
      assert.deepEqual(length.result, { name: 'result', schema: {} })
    })

    it('describes valibot schemas wrapped in toStandardJsonSchema, and bare ones as any value', () => {
      assert.deepEqual(method('valibot.described').params, [{ name: 's', schema: { type: 'string', minLength: 2 }, required: true }])
      assert.deepEqual(method('valibot.bare').params, [
        { name: 'count', schema: {}, required: true },
        { name: 'flag', schema: {}, required: false }
      ])
    })

    it('describes file params as binary with their constraints, and lists the errors they make possible', () => {
      const store = method('files.store')
      const [title, photo, extras] = store.params
      assert.deepEqual(title, { name: 'title', schema: { type: 'string' }, required: true })
      assert.deepEqual(photo, {
        name: 'photo',
        schema: {
          type: 'string',
          format: 'binary',
          contentEncoding: 'binary',
          contentMediaType: 'image/png',
          'x-formcall-file': { kind: 'file', maxSize: 1000, accept: ['image/png'] }
        },
        required: true
      })
      assert.deepEqual(extras, {
        name: 'extras',
        schema: {
          type: 'array',
          items: { type: 'string', format: 'binary', contentEncoding: 'binary' },
          maxItems: 3,
          'x-formcall-file': { kind: 'files', maxCount: 3 }
        },
        required: false
      })
      assert.deepEqual(store.errors.map((e: { $ref: string }) => e.$ref.split('/').pop()),
        ['INVALID_PARAMS', 'MISSING_FILE', 'LIMIT_EXCEEDED', 'FILE_TYPE_NOT_ACCEPTED'])
    })

    it('describes plain functions by position with the names of their source and any value', () => {
      assert.deepEqual(method('plain.add'), {
        name: 'plain.add',
        params: [{ name: 'a', schema: {} }, { name: 'b', schema: {} }],
        result: { name: 'result', schema: {} },
        paramStructure: 'by-position',
        errors: [{ $ref: '#/components/errors/INVALID_PARAMS' }]
      })
      const count = method('plain.count')
      assert.deepEqual(count.params.map((p: any) => p.name), ['first', 'rest'])
      assert.match(count.params[1].description, /rest parameter/)
      // Any number of params is taken: nothing refuses the call's arity.
      assert.deepEqual(count.errors, [])
    })

    it('lists every registered error in components.errors, and every reference in the document resolves', () => {
      const expected = Object.fromEntries(Object.entries(ERROR_REGISTRY).map(([code, { name, message }]) => [name, { code: Number(code), message }]))
      assert.deepEqual(doc.components.errors, expected)
      const refs = localRefs(doc)
      assert.ok(refs.length > METHOD_NAMES.length)
      for (const { path, ref } of refs) assert.notEqual(resolvePointer(doc, ref), undefined, `${ref} at ${path}`)
    })

    it('moves a recursive schema\'s references into components.schemas, where a validator follows them', () => {
      assert.deepEqual(method('tree.depth').params[0].schema, { $ref: '#/components/schemas/tree.depth.node' })
      assert.deepEqual(method('tree.pair').params[0].schema.properties.left, { $ref: '#/components/schemas/tree.pair.params.__schema0' })
      const ajv = new Ajv({ strict: false })
      ajv.addSchema(doc, 'https://formcall.test/openrpc.json')
      const at = (name: string): string => `https://formcall.test/openrpc.json#/methods/${METHOD_NAMES.indexOf(name)}/params/0/schema`
      const tree = { name: 'a', children: [{ name: 'b', children: [] }] }
      const depth = ajv.compile({ $ref: at('tree.depth') })
      assert.equal(depth(tree), true)
      assert.equal(depth({ name: 'a', children: [{ name: 2, children: [] }] }), false)
      const pair = ajv.compile({ $ref: at('tree.pair') })
      assert.equal(pair({ left: tree, right: tree }), true)
      assert.equal(pair({ left: tree, right: { children: [] } }), false)
    })

    it('answers the same text every time, and in a multipart call too', async () => {
      const first = await discover(server.url)
      const second = await discover(server.url)
      assert.equal(first.text, second.text)
      const response = await rawRequest(server.url, {
        headers: { 'Content-Type': multipartType('d') },
        body: multipartBody('d', [{ name: 'json', content: JSON.stringify({ method: 'rpc.discover', id: 2 }) }])
      })
      assert.equal(response.status, 200, response.text)
      assert.deepEqual(response.json().result, doc)
    })
  })

  describe(`rpc.discover as the options set it (${mode})`, () => {
    const servers: RunningServer[] = []
    after(async () => { for (const server of servers) await server.close() })
    const start = async (extra: Omit<CreateServerOptions, 'tmpDir'>): Promise<RunningServer> => {
      const server = await startServer(serverOptions(mode, extra))
      servers.push(server)
      return server
    }

    it('puts discover.title, version and description in the document\'s info', async () => {
      const server = await start({ discover: { title: 'files', version: '2.1.0', description: 'Stores files.' } })
      const { body } = await discover(server.url)
      assert.deepEqual(body.result.info, { title: 'files', version: '2.1.0', description: 'Stores files.' })
    })

    it('lets a before-call hook refuse rpc.discover, and other calls still pass', async () => {
      const server = await start({
        beforeCall: ({ method }) => {
          if (method === 'rpc.discover') throw new RpcError(ErrorCode.FORBIDDEN, 'discovery is for admins')
        }
      })
      const { status, body } = await discover(server.url, { method: 'rpc.discover', id: 1 })
      assert.equal(status, 403)
      assert.equal(body.error.code, ErrorCode.FORBIDDEN)
      assert.equal(body.result, undefined)
      assert.equal((await postJson(server.url, { method: 'math.add', params: [1, 2] })).json().result, 3)
    })

    it('with discover: false, answers rpc.discover as no such method', async () => {
      const server = await start({ discover: false })
      const { status, body } = await discover(server.url, { method: 'rpc.discover', id: 1 })
      assert.equal(status, 404)
      assert.equal(body.error.code, ErrorCode.METHOD_NOT_FOUND)
      assert.equal((await postJson(server.url, { method: 'math.add', params: [1, 2] })).json().result, 3)
    })

    it('refuses a discover option that is not a boolean or an object of non-empty strings', async () => {
      const refused = [
        { discover: { title: '' }, message: /discover\.title must be a non-empty string/ },
        { discover: 'yes' as unknown as boolean, message: /discover must be true, false or/ }
      ]
      for (const { discover: option, message } of refused) {
        const app = createServer({ ...serverOptions(mode), discover: option, fastify: { logger: false } })
        await assert.rejects(async () => { await app.ready() }, message)
        await app.close().catch(() => {})
      }
    })
  })
}
