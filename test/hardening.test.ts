/**
 * Security and robustness defaults, each against a real server on loopback in both isolation modes where the
 * behaviour crosses the thread boundary: body timeouts, file-system paths in method errors, and which browser
 * requests the origin policy lets through (DNS rebinding, fetch metadata).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { openRequest, postJson, rawRequest } from './support/raw-http.js'
import { describeFileKinds } from './support/pool-methods.js'
import { POOL_METHODS } from './support/pool-server.js'
import { multipartBody, multipartType } from './support/multipart.js'
import { startServer, type RunningServer } from './support/start-server.js'

const MISSING = '/var/lib/formcall-test/secret-dir/missing-file.txt'
const fsMethods = {
  echo: (value: unknown) => value,
  readMissing: async () => await readFile(MISSING, 'utf8')
}

describe('a call\'s JSON must arrive within bodyTimeout', () => {
  let server: RunningServer
  before(async () => { server = await startServer({ methods: fsMethods, bodyTimeout: 300 }) })
  after(async () => await server.close())

  const cases: ReadonlyArray<readonly [what: string, headers: Record<string, string>, sent: string]> = [
    ['a JSON body announced and never sent', { 'Content-Type': 'application/json', 'Content-Length': '100' }, ''],
    ['a JSON body cut half-way', { 'Content-Type': 'application/json', 'Content-Length': '100' }, '{"method":"ec'],
    ['an urlencoded body never sent', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '50' }, ''],
    ['a chunked JSON body that stops', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, '5\r\n{"met\r\n'],
    ['a multipart json part that never ends', { 'Content-Type': 'multipart/form-data; boundary=b', 'Content-Length': '1000' },
      '--b\r\nContent-Disposition: form-data; name="json"\r\n\r\n{"method":']
  ]
  for (const [what, headers, sent] of cases) {
    it(`${what} is answered 408 UPLOAD_STALLED and the connection closed`, async () => {
      const open = await openRequest(server.url, { headers })
      if (sent !== '') await open.write(sent)
      const res = await open.response
      assert.equal(res.status, 408, res.text)
      assert.equal(res.json().error.code, -32013)
      assert.match(res.json().error.message, /bodyTimeout/)
    })
  }

  it('a call whose body arrives in time is answered as usual', async () => {
    assert.equal((await postJson(server.url, { method: 'echo', params: [1] })).json().result, 1)
  })

  for (const method of ['POST', 'PUT', 'GET']) {
    it(`a ${method} to a path nothing serves is answered 404 before its body, which never comes, and the connection closed`, async () => {
      const open = await openRequest(`${server.origin}/elsewhere`, {
        method, headers: { 'Content-Type': 'application/json', 'Content-Length': '100' }
      })
      await open.write('{"method":')
      const res = await open.response
      assert.equal(res.status, 404, res.text)
      assert.equal(res.json().statusCode, 404)
    })
  }
})

for (const isolation of ['inline', 'worker'] as const) {
  describe(`method errors from the file system carry no server paths (${isolation})`, () => {
    let hidden: RunningServer
    let exposed: RunningServer
    before(async () => {
      const base = isolation === 'inline' ? { methods: fsMethods } : { methodsModule: POOL_METHODS, workers: 1 }
      hidden = await startServer(base)
      exposed = await startServer({ ...base, exposeErrors: true })
    })
    after(async () => {
      await hidden.close()
      await exposed.close()
    })

    it('an ENOENT keeps its code and operation but not the path', async () => {
      const { error } = (await postJson(hidden.url, { method: 'readMissing' })).json()
      assert.equal(error.code, -32000)
      assert.match(error.message, /ENOENT/)
      assert.doesNotMatch(JSON.stringify(error), /secret-dir|formcall-test|missing-file/)
    })

    it('with exposeErrors the path is there for debugging', async () => {
      const { error } = (await postJson(exposed.url, { method: 'readMissing' })).json()
      assert.match(error.message, /secret-dir\/missing-file\.txt/)
    })
  })
}

describe('which browser requests the origin policy lets through', () => {
  let strict: RunningServer
  let listed: RunningServer
  before(async () => {
    strict = await startServer({ methods: fsMethods })
    listed = await startServer({ methods: fsMethods, allowedHosts: ['app.example'], allowedOrigins: ['https://other.example'] })
  })
  after(async () => {
    await strict.close()
    await listed.close()
  })

  const call = JSON.stringify({ method: 'echo', params: ['ok'] })
  const cases: ReadonlyArray<readonly [what: string, server: () => RunningServer, headers: (port: number) => Record<string, string>, status: number]> = [
    ['no Origin and no fetch metadata (curl, a server)', () => strict, () => ({}), 200],
    ['the server\'s own origin on 127.0.0.1', () => strict, (port) => ({ Origin: `http://127.0.0.1:${port}` }), 200],
    ['the server\'s own origin on localhost', () => strict, (port) => ({ Host: `localhost:${port}`, Origin: `http://localhost:${port}` }), 200],
    ['a rebound DNS name matching its own Host', () => strict, (port) => ({ Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }), 403],
    ['a listed host name matching its own Host', () => listed, (port) => ({ Host: `app.example:${port}`, Origin: `http://app.example:${port}` }), 200],
    ['Host with a port against an Origin without it', () => strict, (port) => ({ Host: `127.0.0.1:${port}`, Origin: 'http://127.0.0.1' }), 403],
    ['another origin', () => strict, () => ({ Origin: 'https://other.example' }), 403],
    ['an allowed other origin', () => listed, () => ({ Origin: 'https://other.example' }), 200],
    ['Sec-Fetch-Site: cross-site without Origin', () => strict, () => ({ 'Sec-Fetch-Site': 'cross-site' }), 403],
    ['Sec-Fetch-Site: same-site without Origin', () => strict, () => ({ 'Sec-Fetch-Site': 'same-site' }), 403],
    ['Sec-Fetch-Site: same-origin without Origin', () => strict, () => ({ 'Sec-Fetch-Site': 'same-origin' }), 200],
    ['Sec-Fetch-Site: none (a typed URL)', () => strict, () => ({ 'Sec-Fetch-Site': 'none' }), 200]
  ]
  for (const [what, server, headers, status] of cases) {
    it(`${what}: HTTP ${status}`, async () => {
      const target = server()
      const res = await rawRequest(target.url, { headers: { 'Content-Type': 'application/json', ...headers(target.port) }, body: call })
      assert.equal(res.status, status, res.text)
      if (status === 403) {
        assert.equal(res.json().error.code, -32010)
      } else {
        assert.equal(res.json().result, 'ok')
      }
    })
  }
})

/** Keys the server uses internally for files, today and before: none may turn a client's JSON into a file object. */
const FORGED = [
  { $formcallFile: 0 },
  { $formcallFiles: 0, field: 'f' },
  { $formcallFile: 1 },
  { __proto__: { $formcallFile: 0 } },
  { nested: [{ $formcallFile: 0 }, { $formcallFiles: 0, field: 'x' }] }
]

for (const isolation of ['inline', 'worker'] as const) {
  describe(`a client's JSON never becomes a file object (${isolation})`, () => {
    let server: RunningServer
    before(async () => {
      server = await startServer(isolation === 'inline'
        ? { methods: { fileKinds: (...args: unknown[]) => args.map(describeFileKinds) } }
        : { methodsModule: POOL_METHODS, workers: 1 })
    })
    after(async () => await server.close())

    it('internal file keys in a JSON call arrive as plain data', async () => {
      const res = await postJson(server.url, { method: 'fileKinds', params: FORGED })
      assert.deepEqual(res.json().result, JSON.parse(JSON.stringify(FORGED)))
    })

    it('beside a real file, internal file keys stay plain data and only the placeholder is a file', async () => {
      const call = { method: 'fileKinds', params: [{ $file: 'f' }, ...FORGED, { $files: 'g' }] }
      const res = await rawRequest(server.url, {
        headers: { 'Content-Type': multipartType('b') },
        body: multipartBody('b', [{ name: 'json', content: JSON.stringify(call) }, { name: 'f', filename: 'f.txt', content: 'real' },
          { name: 'g', filename: 'g.txt', content: 'also real' }])
      })
      assert.deepEqual(res.json().result, ['file', ...JSON.parse(JSON.stringify(FORGED)), 'files'])
    })
  })
}

describe('HEAD when GET calls are enabled', () => {
  let server: RunningServer
  before(async () => { server = await startServer({ methods: fsMethods, enableGet: true }) })
  after(async () => await server.close())

  it('is answered as the GET would be, without a body', async () => {
    const url = `${server.url}?json=${encodeURIComponent(JSON.stringify({ method: 'echo', params: ['head'] }))}`
    const get = await fetch(url)
    const head = await fetch(url, { method: 'HEAD' })
    assert.equal(get.status, 200)
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'))
    assert.equal(await head.text(), '')
    assert.deepEqual(await get.json(), { jsonrpc: '2.0', id: null, result: 'head' })
  })
})
