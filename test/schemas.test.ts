/**
 * Methods that check themselves: Standard Schema params (zod 4, valibot, hand-written), arity of plain functions, and
 * file params whose constraints the server holds while the bytes stream — against a real server in both modes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BroadcastChannel } from 'node:worker_threads'
import { deflateSync } from 'node:zlib'
import methods, { SCHEMA_CHANNEL, type ReadReport } from './support/schema-methods.js'
import { startServer, type RunningServer } from './support/start-server.js'
import { multipartBody, multipartType, type PartSpec } from './support/multipart.js'
import { postJson, rawRequest } from './support/raw-http.js'
import { PendingUpload } from './support/pool-server.js'
import { createClient } from '@formcall/client-node'
import type { RpcError } from '@formcall/spec'

const SCHEMA_METHODS = new URL('./support/schema-methods.ts', import.meta.url)

/** A valid 1×1 PNG: the sniffer recognises it by its bytes. */
function tinyPng (): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)])
  }
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0])
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.from([0, 255, 0, 0]))), chunk('IEND', Buffer.alloc(0))
  ])
}

/** The start of a JPEG (SOI + APP0 JFIF): enough for the sniffer. */
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]), Buffer.alloc(200, 7)])
/** A GIF header. */
const GIF = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.alloc(200, 1)])

/** Collects what file methods report while a test runs. */
class Reports {
  readonly seen: ReadReport[] = []
  readonly #port = new BroadcastChannel(SCHEMA_CHANNEL)
  constructor () {
    this.#port.onmessage = (event) => { this.seen.push((event as { data: ReadReport }).data) }
  }

  /** Reports of `method` after a short settle (the report crosses a channel). */
  async of (method: string): Promise<ReadReport[]> {
    await new Promise((resolve) => setTimeout(resolve, 50))
    return this.seen.filter((report) => report.method === method)
  }

  close (): void { this.#port.close() }
}

async function call (server: RunningServer, method: string, params?: unknown): Promise<{ status: number, body: any }> {
  const response = await postJson(server.url, { jsonrpc: '2.0', id: 1, method, ...(params === undefined ? {} : { params }) })
  return { status: response.status, body: response.json() }
}

async function multipart (server: RunningServer, method: string, params: unknown, parts: PartSpec[]): Promise<{ status: number, body: any }> {
  const boundary = 'schema-boundary'
  const response = await rawRequest(server.url, {
    headers: { 'Content-Type': multipartType(boundary) },
    body: multipartBody(boundary, [{ name: 'json', content: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) }, ...parts])
  })
  return { status: response.status, body: response.json() }
}

const MODES = [
  { mode: 'inline', start: async () => await startServer({ methods }) },
  { mode: 'worker', start: async () => await startServer({ methodsModule: SCHEMA_METHODS, workers: 1 }) }
] as const

/** [what, method, params, the result] */
const ACCEPTED: Array<[string, string, unknown, unknown]> = [
  ['positional zod params', 'math.add', [1, 2], 3],
  ['a named call to a positional method, matched by name', 'math.add', { a: 2, b: 5 }, 7],
  ['an async schema', 'math.half', [8], 4],
  ['named params sent by name', 'users.create', { name: 'ada', age: 36 }, { name: 'ada', age: 36 }],
  ['named params sent as the one positional param', 'users.create', [{ name: 'ada' }], { name: 'ada' }],
  ['named params with no params at all fail only on what is required', 'text.count', { words: 'a b  c' }, 3],
  ['a transform: the method gets the parsed value', 'text.shout', ['hi'], 'HI!'],
  ['a schema for the whole params', 'users.rename', { from: 'a', to: 'b' }, 'a→b'],
  ['valibot positional params', 'valibot.add', [2, 3], 5],
  ['valibot named params', 'valibot.user', { name: 'al' }, { name: 'al' }],
  ['a plain function called with its declared params', 'plain.add', [1, 2], 3],
  ['a plain function with a default param, called with both', 'plain.optional', [1, 2], 3],
  ['a plain function with a rest param takes any number', 'plain.count', [1, 2, 3, 4, 5], 5],
  ['a plain function called with fewer params', 'plain.optional', [1], 11]
]

/** [what, method, params, the issue paths expected in data.issues] */
const REFUSED: Array<[string, string, unknown, unknown[]]> = [
  ['a wrong type at a position', 'math.add', [1, 'two'], [[1]]],
  ['more positional params than the schemas', 'math.add', [1, 2, 3], [[2]]],
  ['a name a positional method does not have', 'math.add', { a: 1, c: 2 }, [['c']]],
  ['a missing required param', 'math.add', [1], [[1]]],
  ['a failed async schema', 'math.half', [3], [[0]]],
  ['a named param of the wrong type, nested path', 'users.create', { name: 'ada', tags: ['a', 1] }, [['tags', 1]]],
  ['an unknown named param', 'users.create', { name: 'ada', admin: true }, [['admin']]],
  ['a required named param left out', 'users.create', {}, [['name']]],
  ['named params that are not an object', 'users.create', ['ada'], [[]]],
  ['a whole-params refinement', 'users.rename', { from: 'a', to: 'a' }, [[]]],
  ['valibot issues, with their path', 'valibot.user', { name: 'a' }, [['name']]],
  ['more params than a plain function declares', 'plain.add', [1, 2, 3], [[2]]],
  ['more params than a plain function with a default declares', 'plain.optional', [1, 2, 3], [[2]]]
]

for (const { mode, start } of MODES) {
  describe(`schemas (${mode})`, () => {
    let server: RunningServer
    const reports = new Reports()
    before(async () => { server = await start() })
    after(async () => {
      reports.close()
      await server.close()
    })

    for (const [what, method, params, result] of ACCEPTED) {
      test(`accepted: ${what}`, async () => {
        const { status, body } = await call(server, method, params)
        assert.equal(status, 200, JSON.stringify(body))
        assert.deepEqual(body.result, result)
      })
    }

    for (const [what, method, params, paths] of REFUSED) {
      test(`refused with -32602 and the schema's issues: ${what}`, async () => {
        const { status, body } = await call(server, method, params)
        assert.equal(status, 200, 'a JSON-RPC call gets its error in a 200 envelope')
        assert.equal(body.error.code, -32602, JSON.stringify(body))
        assert.equal(body.error.data.method, method)
        assert.deepEqual(body.error.data.issues.map((issue: { path: unknown[] }) => issue.path), paths)
        for (const issue of body.error.data.issues) assert.equal(typeof issue.message, 'string')
        assert.match(body.error.message, new RegExp(`the params of "${method.replace('.', '\\.')}"`))
      })
    }

    test('a schema that throws fails its call with -32603, says nothing of the error, and the server keeps serving', async () => {
      const { body } = await call(server, 'broken.schema', [1])
      assert.equal(body.error.code, -32603)
      assert.doesNotMatch(JSON.stringify(body), /secret|validator bug/)
      assert.equal((await call(server, 'math.add', [1, 1])).body.result, 2)
    })

    test('a result its result schema refuses is -32603', async () => {
      const { body } = await call(server, 'broken.result', [])
      assert.equal(body.error.code, -32603)
      assert.match(body.error.message, /result schema/)
    })

    test('a PNG within its maxSize reaches the method', async () => {
      const png = tinyPng()
      const { body } = await multipart(server, 'photos.store', [{ title: 'dot', photo: { $file: 'p' } }],
        [{ name: 'p', filename: 'dot.png', type: 'image/png', content: png }])
      assert.deepEqual(body.result, { title: 'dot', type: 'image/png', bytes: png.length })
    })

    test('a declared type the param does not accept is -32020 before the method reads a byte', async () => {
      const before = (await reports.of('photos.store')).length
      const { status, body } = await multipart(server, 'photos.store', { title: 'x', photo: { $file: 'p' } },
        [{ name: 'p', filename: 'a.gif', type: 'image/gif', content: GIF }])
      assert.equal(status, 200)
      assert.equal(body.error.code, -32020, JSON.stringify(body))
      assert.deepEqual({ param: body.error.data.param, declared: body.error.data.declared }, { param: 'photo', declared: 'image/gif' })
      const read = (await reports.of('photos.store')).slice(before)
      assert.ok(read.every((report) => report.bytes === 0 && !report.ended), JSON.stringify(read))
    })

    test('bytes that are not what the declared type says are -32020 (sniffed), and the method reads none of them', async () => {
      const before = (await reports.of('photos.store')).length
      const { body } = await multipart(server, 'photos.store', { title: 'x', photo: { $file: 'p' } },
        [{ name: 'p', filename: 'fake.png', type: 'image/png', content: Buffer.from('#!/bin/sh\necho not a png\n'.repeat(300)) }])
      assert.equal(body.error.code, -32020, JSON.stringify(body))
      assert.equal(body.error.data.declared, undefined)
      const read = (await reports.of('photos.store')).slice(before)
      assert.ok(read.every((report) => report.bytes === 0), JSON.stringify(read))
    })

    test('a GIF declared as a JPEG is refused by what its bytes are', async () => {
      const { body } = await multipart(server, 'photos.store', { title: 'x', photo: { $file: 'p' } },
        [{ name: 'p', filename: 'a.jpg', type: 'image/jpeg', content: GIF }])
      assert.equal(body.error.code, -32020)
      assert.equal(body.error.data.detected, 'image/gif')
    })

    test('a JPEG is accepted by its declared type and its bytes', async () => {
      const { body } = await multipart(server, 'photos.store', { title: 'j', photo: { $file: 'p' } },
        [{ name: 'p', filename: 'a.jpg', type: 'image/jpeg', content: JPEG }])
      assert.equal(body.result?.bytes, JPEG.length, JSON.stringify(body))
    })

    test('a text type is checked by its declaration only (text has no signature)', async () => {
      const { body } = await multipart(server, 'docs.store', [{ $file: 'd' }],
        [{ name: 'd', filename: 'a.txt', type: 'text/plain; charset=utf-8', content: 'hello' }])
      assert.equal(body.result, 5)
    })

    test('a file over its param\'s maxSize fails the call at that byte; the method never sees the stream end; the upload is cut short', async () => {
      const before = (await reports.of('docs.store')).length
      const upload = await PendingUpload.open(server.url, { jsonrpc: '2.0', id: 1, method: 'docs.store', params: [{ $file: 'd' }] },
        [{ name: 'd', filename: 'big.txt', type: 'text/plain', content: Buffer.alloc(8 * 1024 * 1024, 0x61) }])
      // Send 2 MiB of the 8 MiB file: past its 1 MiB maximum, the server answers without waiting for the rest.
      await upload.sendUntil(upload.contentStart(0) + 2 * 1024 * 1024)
      const response = await upload.response
      const body = response.json()
      assert.equal(body.error.code, -32004, JSON.stringify(body))
      assert.deepEqual({ limit: body.error.data.limit, max: body.error.data.max, param: body.error.data.param },
        { limit: 'maxSize', max: 1024 * 1024, param: 'doc' })
      const read = (await reports.of('docs.store')).slice(before)
      assert.equal(read.length, 1, JSON.stringify(read))
      assert.equal(read[0]?.ended, false, 'the method\'s stream failed rather than ended')
      assert.ok((read[0]?.bytes ?? Infinity) <= 1024 * 1024, `the method read ${read[0]?.bytes} bytes, more than the maximum`)
      assert.equal((await server.tmpFiles()).length, 0)
    })

    test('a file list over its maxCount is -32004 maxCount', async () => {
      const png = tinyPng()
      const parts = [1, 2, 3].map((n) => ({ name: 'ps', filename: `${n}.png`, type: 'image/png', content: png }))
      const { body } = await multipart(server, 'photos.album', { photos: { $files: 'ps' } }, parts)
      assert.equal(body.error.code, -32004, JSON.stringify(body))
      assert.deepEqual({ limit: body.error.data.limit, max: body.error.data.max }, { limit: 'maxCount', max: 2 })
      const ok = await multipart(server, 'photos.album', { photos: { $files: 'ps' } }, parts.slice(0, 2))
      assert.deepEqual(ok.body.result, [png.length, png.length])
    })

    test('a file list sent as an array of $file placeholders (what the clients send) is held to the same rules', async () => {
      const png = tinyPng()
      const two = await multipart(server, 'photos.album', { photos: [{ $file: 'a' }, { $file: 'b' }] },
        [{ name: 'a', filename: 'a.png', type: 'image/png', content: png }, { name: 'b', filename: 'b.gif', type: 'image/gif', content: GIF }])
      assert.deepEqual(two.body.result, [png.length, GIF.length], JSON.stringify(two.body))
      const three = await multipart(server, 'photos.album', { photos: [{ $file: 'a' }, { $file: 'b' }, { $file: 'c' }] },
        ['a', 'b', 'c'].map((name) => ({ name, filename: `${name}.png`, type: 'image/png', content: png })))
      assert.equal(three.body.error.code, -32004)
      assert.deepEqual({ limit: three.body.error.data.limit, max: three.body.error.data.max }, { limit: 'maxCount', max: 2 })
      const text = await multipart(server, 'photos.album', { photos: [{ $file: 'a' }] }, [{ name: 'a', filename: 'a.txt', type: 'text/plain', content: 'x' }])
      assert.equal(text.body.error.code, -32020)
    })

    test('the Node client calls schema-checked methods with its typed API and gets the issues in its RpcError', async () => {
      const api = createClient<typeof methods>(server.url)
      assert.equal(await api.math.add(2, 3), 5)
      assert.deepEqual(await api.photos.album({ photos: [new Blob([new Uint8Array(tinyPng())], { type: 'image/png' }), new Blob([new Uint8Array(JPEG)], { type: 'image/jpeg' })] }),
        [tinyPng().length, JPEG.length])
      await assert.rejects(api.users.create({ name: '' }), (err: RpcError) => err.code === -32602 &&
        JSON.stringify((err.data as { issues: unknown[] }).issues.map((issue) => (issue as { path: unknown }).path)) === '[["name"]]')
      await assert.rejects(api.photos.store({ title: 't', photo: new Blob(['not a picture'], { type: 'image/png' }) }),
        (err: RpcError) => err.code === -32020)
    })

    /** [what, method, params, the message it must match] */
    const FILE_REFUSALS: Array<[string, string, unknown, RegExp]> = [
      ['a required file param left out', 'photos.store', { title: 'x' }, /"photo" is required/],
      ['a value where a file param is', 'photos.store', { title: 'x', photo: 'photo.png' }, /file placeholder/],
      ['a list placeholder for a one-file param', 'photos.store', { title: 'x', photo: { $files: 'p' } }, /takes one file/],
      ['a one-file placeholder for a list param', 'photos.album', { photos: { $file: 'p' } }, /takes a list/]
    ]
    for (const [what, method, params, message] of FILE_REFUSALS) {
      test(`refused with -32602 before any part is read: ${what}`, async () => {
        const { body } = await multipart(server, method, params, [{ name: 'p', filename: 'a.png', type: 'image/png', content: tinyPng() }])
        assert.equal(body.error.code, -32602, JSON.stringify(body))
        assert.match(body.error.message, message)
      })
    }

    test('an optional file param may be left out, and is checked when sent', async () => {
      assert.deepEqual((await call(server, 'photos.cover', ['x'])).body.result, { name: 'x', cover: null })
      const png = tinyPng()
      const sent = await multipart(server, 'photos.cover', ['x', { $file: 'c' }], [{ name: 'c', filename: 'c.png', type: 'image/png', content: png }])
      assert.deepEqual(sent.body.result, { name: 'x', cover: png.length })
      const wrong = await multipart(server, 'photos.cover', ['x', { $file: 'c' }], [{ name: 'c', filename: 'c.jpg', type: 'image/jpeg', content: JPEG }])
      assert.equal(wrong.body.error.code, -32020)
    })

    test('a call without jsonrpc gets a schema refusal as HTTP 400 and a file type refusal as 415', async () => {
      const refused = await postJson(server.url, { method: 'math.add', params: [1, 'x'] })
      assert.equal(refused.status, 400)
      const boundary = 'plain-boundary'
      const typed = await rawRequest(server.url, {
        headers: { 'Content-Type': multipartType(boundary) },
        body: multipartBody(boundary, [{ name: 'json', content: JSON.stringify({ method: 'docs.store', params: [{ $file: 'd' }] }) },
          { name: 'd', filename: 'a.png', type: 'image/png', content: tinyPng() }])
      })
      assert.equal(typed.status, 415)
      assert.equal(typed.json().error.code, -32020)
    })
  })
}
