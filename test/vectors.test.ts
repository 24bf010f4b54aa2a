import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { postJson, rawRequest } from './support/raw-http.js'
import { startServer, type RunningServer } from './support/start-server.js'
import { vectorHooks, vectorMethods } from './support/vector-methods.js'
import { VECTORS_DIR, assertExpected, headerOf, loadVectorFiles, vectorBody, type Vector } from './support/vectors.js'
import { waitFor } from './support/wait.js'

const { index, files } = await loadVectorFiles()

// One server per distinct configuration, shared by the rows that use it.
const servers = new Map<string, Promise<RunningServer>>()
after(async () => {
  for (const server of servers.values()) await (await server).close()
})

async function serverFor (vector: Vector): Promise<RunningServer> {
  const key = JSON.stringify({ limits: vector.limits ?? {}, options: vector.options ?? {} })
  let server = servers.get(key)
  if (server === undefined) {
    const { beforeCall, ...options } = vector.options ?? {}
    const hook = beforeCall === undefined ? undefined : vectorHooks[beforeCall]
    if (beforeCall !== undefined && hook === undefined) throw new Error(`no test hook named "${beforeCall}"`)
    server = startServer({
      methods: vectorMethods,
      ...(vector.limits === undefined ? {} : { limits: vector.limits }),
      ...options,
      ...(hook === undefined ? {} : { beforeCall: hook })
    })
    servers.set(key, server)
  }
  return await server
}

/** Sends a vector's request to `server`, checks the answer, then checks the server is unharmed. */
async function replay (server: RunningServer, vector: Vector): Promise<void> {
  const body = vectorBody(vector.request)
  const res = await rawRequest(server.url, {
    method: vector.request.method,
    target: vector.request.path,
    headers: vector.request.headers,
    ...(body === undefined ? {} : { body })
  })
  assertExpected(res, vector.expected)

  // Whatever the row did, the server still answers a plain call, and no spool file outlives the request.
  const followUp = await postJson(server.url, { method: 'echo', params: ['still serving'] }, { Authorization: 'Bearer secret' })
  assert.equal(followUp.status, 200, followUp.text)
  assert.equal(followUp.json().result, 'still serving')
  await waitFor(async () => (await server.tmpFiles()).length === 0, 'the spool directory to be empty')
}

describe('the vector files', () => {
  it('index.json lists every vector file in spec/vectors, and only those', async () => {
    const onDisk = (await readdir(VECTORS_DIR)).filter((name) => name.endsWith('.json') && name !== 'index.json').sort()
    assert.deepEqual([...index.files].sort(), onDisk)
  })

  it('every row names its behaviour, and no two rows share a name', () => {
    const names = files.flatMap((file) => file.vectors.map((vector) => vector.what))
    for (const name of names) assert.ok(typeof name === 'string' && name.length > 10, `row name "${name}"`)
    assert.equal(new Set(names).size, names.length)
  })

  it('a declared Content-Length is the byte length of the body it declares', () => {
    for (const file of files) {
      for (const vector of file.vectors) {
        const declared = headerOf(vector.request.headers, 'content-length')
        if (declared !== undefined) assert.equal(Number(declared), vectorBody(vector.request)?.length, vector.what)
      }
    }
  })

  it('every registered error code a request alone can cause appears in some row', () => {
    const codes = new Set<number>()
    const collect = (body: unknown): void => {
      if (Array.isArray(body)) body.forEach(collect)
      else if (typeof body === 'object' && body !== null) {
        const error = (body as { error?: { code?: number } }).error
        if (typeof error?.code === 'number') codes.add(error.code)
      }
    }
    for (const file of files) for (const vector of file.vectors) collect(vector.expected.body)
    for (const code of [-32700, -32600, -32601, -32602, -32000, -32002, -32003, -32004, -32009, -32010, -32011, -32012, -32014]) {
      assert.ok(codes.has(code), `no vector expects ${code}`)
    }
  })
})

for (const file of files) {
  describe(`${file.name}: ${file.description}`, () => {
    for (const vector of file.vectors) {
      it(vector.what, async () => await replay(await serverFor(vector), vector))
    }
  })
}

describe('every row that needs no server options, replayed with the methods in a worker pool', () => {
  // The HTTP side is the same in both modes, but what the method sees (its files, their headers, its errors) crosses
  // the thread boundary: every row the pool can serve runs here too, limits included. One pool per set of limits,
  // closed after its last row.
  const rows = files.flatMap((file) => file.vectors.filter((vector) => vector.options === undefined).map((vector) => ({ file, vector })))
  const keyOf = (vector: Vector): string => JSON.stringify(vector.limits ?? {})
  const lastRowOf = new Map(rows.map(({ vector }, index) => [keyOf(vector), index]))
  const pools = new Map<string, Promise<RunningServer>>()
  const poolFor = async (vector: Vector): Promise<RunningServer> => {
    const key = keyOf(vector)
    let pool = pools.get(key)
    if (pool === undefined) {
      pool = startServer({
        methodsModule: fileURLToPath(new URL('./support/vector-methods.ts', import.meta.url)),
        isolation: 'worker',
        workers: vector.limits === undefined ? 2 : 1,
        ...(vector.limits === undefined ? {} : { limits: vector.limits })
      })
      pools.set(key, pool)
    }
    return await pool
  }
  after(async () => {
    for (const pool of pools.values()) await (await pool).close()
  })

  rows.forEach(({ file, vector }, index) => {
    it(`${file.name}: ${vector.what}`, async () => {
      try {
        await replay(await poolFor(vector), vector)
      } finally {
        const key = keyOf(vector)
        const pool = pools.get(key)
        if (lastRowOf.get(key) === index && pool !== undefined) {
          pools.delete(key)
          await (await pool).close()
        }
      }
    })
  })
})
