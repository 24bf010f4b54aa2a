// The off-the-shelf clients formcall promises to work with, driven unmodified as their documentation shows, against
// real servers on loopback: jayson's HTTP client, json-rpc-2.0 with the fetch transport of its README, and a client
// that behaves as krpc's Python KRPCClient (urllib, its exact bytes, posting to "/") against `formcall serve --path /`
// as the README starts it. Each must get a method's `code`, `message` and `data` unchanged (PROTOCOL.md section 8.1).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import jayson from 'jayson'
import { JSONRPCClient, JSONRPCErrorException, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0'
import { RpcError } from '@formcall/server'
import { startServer, type RunningServer } from './support/start-server.js'
import { CLI_FROM_SOURCE, startChild, type Child } from './support/child-process.js'

const notes: unknown[] = []
const methods = {
  echo: (value: unknown) => value,
  math: {
    add: (a: number, b: number) => a + b,
    sum: ({ a, b }: { a: number, b: number }) => a + b
  },
  note: (text: unknown) => { notes.push(text) },
  fail: {
    invalidParams: (_a: number, _b: number) => { throw new RpcError(-32602, 'b must be a number', { param: 1 }) },
    application: () => { throw new RpcError(4001, 'no such account; check the account id', { account: 'a1' }) },
    plain: () => { throw new Error('the disk is full') }
  }
}

describe('jayson\'s HTTP client against a default server', () => {
  let server: RunningServer
  let client: jayson.HttpClient
  before(async () => {
    server = await startServer({ methods })
    client = jayson.Client.http(server.url as unknown as jayson.HttpClientOptions)
  })
  after(async () => await server.close())

  /** `client.request(method, params, callback)` as jayson's README shows, as a promise of (err, response). */
  const request = async (method: string, params: unknown, id?: null): Promise<{ err: unknown, response: any }> =>
    await new Promise((resolve) => {
      const callback = (err: unknown, response: unknown): void => resolve({ err, response })
      if (id === null) client.request(method, params as jayson.RequestParamsLike, null, callback)
      else client.request(method, params as jayson.RequestParamsLike, callback)
    })

  it('gets results of positional and named params', async () => {
    const positional = await request('math.add', [2, 3])
    assert.equal(positional.err, null)
    assert.equal(positional.response.result, 5)
    const named = await request('math.sum', { a: 2, b: 40 })
    assert.equal(named.response.result, 42)
  })

  const errorCases: Array<[string, string, unknown, { code: number, message?: string, data?: unknown }]> = [
    ['method not found', 'nope', [], { code: -32601 }],
    ['invalid params', 'fail.invalidParams', [1, 'x'], { code: -32602, message: 'b must be a number', data: { param: 1 } }],
    ['a method\'s own code with data', 'fail.application', [], { code: 4001, message: 'no such account; check the account id', data: { account: 'a1' } }],
    ['a plain exception', 'fail.plain', [], { code: -32000, message: 'the disk is full' }]
  ]
  for (const [what, method, params, expected] of errorCases) {
    it(`gets ${what} as the response's error, not as a transport error`, async () => {
      const { err, response } = await request(method, params)
      assert.equal(err, null, `jayson reported a transport error: ${String(err)}`)
      assert.equal(response.error.code, expected.code)
      if (expected.message !== undefined) assert.equal(response.error.message, expected.message)
      if (expected.data !== undefined) assert.deepEqual(response.error.data, expected.data)
    })
  }

  it('sends a batch and gets each entry\'s result or error', async () => {
    const batch = [client.request('math.add', [1, 1]), client.request('nope', [10]), client.request('echo', ['x'])]
    const { errors, successes } = await new Promise<{ errors: any[], successes: any[] }>((resolve, reject) => {
      // jayson's README form: (err, errors, successes). Its typings only know the two-argument form.
      const request = client.request.bind(client) as (batch: unknown, callback: (err: unknown, errs: any[], oks: any[]) => void) => void
      request(batch, (err, errs, oks) => {
        if (err !== null && err !== undefined) reject(err as Error)
        else resolve({ errors: errs, successes: oks })
      })
    })
    assert.deepEqual(successes.map((r) => r.result).sort(), [2, 'x'])
    assert.deepEqual(errors.map((r) => r.error.code), [-32601])
  })

  it('sends a notification: no error, no response, and the method ran', async () => {
    const { err, response } = await request('note', ['from jayson'], null)
    assert.equal(err ?? null, null)
    assert.equal(response, undefined)
    assert.ok(notes.includes('from jayson'))
  })
})

describe('json-rpc-2.0 with the fetch transport of its README against a default server', () => {
  let server: RunningServer
  let client: JSONRPCClient
  before(async () => {
    server = await startServer({ methods })
    // The transport exactly as json-rpc-2.0's README writes it, with this server's URL.
    client = new JSONRPCClient((jsonRPCRequest: JSONRPCRequest) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(jsonRPCRequest)
      }).then(async (response) => {
        if (response.status === 200) {
          return await response.json().then((jsonRPCResponse: JSONRPCResponse) => client.receive(jsonRPCResponse))
        } else if (jsonRPCRequest.id !== undefined) {
          return await Promise.reject(new Error(response.statusText))
        }
      }))
  })
  after(async () => await server.close())

  it('gets results of positional and named params', async () => {
    assert.equal(await client.request('math.add', [2, 3]), 5)
    assert.equal(await client.request('math.sum', { a: 2, b: 40 }), 42)
  })

  const errorCases: Array<[string, string, unknown, { code: number, message?: string, data?: unknown }]> = [
    ['method not found', 'nope', [], { code: -32601 }],
    ['invalid params', 'fail.invalidParams', [1, 'x'], { code: -32602, message: 'b must be a number', data: { param: 1 } }],
    ['a method\'s own code with data', 'fail.application', [], { code: 4001, message: 'no such account; check the account id', data: { account: 'a1' } }]
  ]
  for (const [what, method, params, expected] of errorCases) {
    it(`rejects with ${what} as a JSONRPCErrorException carrying code, message and data`, async () => {
      const err = await client.request(method, params).then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof JSONRPCErrorException, `got ${String(err)}`)
      assert.equal(err.code, expected.code)
      if (expected.message !== undefined) assert.equal(err.message, expected.message)
      if (expected.data !== undefined) assert.deepEqual(err.data, expected.data)
    })
  }

  it('sends a batch with requestAdvanced and gets each entry', async () => {
    const responses = await client.requestAdvanced([
      { jsonrpc: '2.0', id: 1, method: 'math.add', params: [1, 2] },
      { jsonrpc: '2.0', id: 2, method: 'fail.application' }
    ]) as JSONRPCResponse[]
    const byId = new Map(responses.map((r) => [r.id, r]))
    assert.equal(byId.get(1)?.result, 3)
    assert.equal(byId.get(2)?.error?.code, 4001)
    assert.deepEqual(byId.get(2)?.error?.data, { account: 'a1' })
  })

  it('sends a notification that resolves and runs the method', async () => {
    await client.notify('note', ['from json-rpc-2.0'])
    // notify resolves when the transport does, i.e. after the server's 204.
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(notes.includes('from json-rpc-2.0'))
  })
})

const KRPC_CLIENT = fileURLToPath(new URL('./support/krpc-client.py', import.meta.url))
const TEST_DIR = fileURLToPath(new URL('.', import.meta.url))

interface KrpcOutcome { result?: unknown, raised?: string, code?: number, message?: string, data?: unknown, text?: string }

async function runKrpc (port: number, calls: unknown[]): Promise<KrpcOutcome[]> {
  return await new Promise((resolve, reject) => {
    const child = execFile('python3', [KRPC_CLIENT, '127.0.0.1', String(port)], (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`krpc client failed: ${stderr}`))
      else resolve(JSON.parse(stdout) as KrpcOutcome[])
    })
    child.stdin?.end(JSON.stringify(calls))
  })
}

describe('a krpc client (host and port only) against `formcall serve --path /`', () => {
  let dir: string
  let child: Child
  let port: number
  before(async () => {
    // Inside test/ so the module resolves @formcall/server as a user's project would (`.tmp/` is ignored by git).
    await mkdir(join(TEST_DIR, '.tmp'), { recursive: true })
    dir = await mkdtemp(join(TEST_DIR, '.tmp', 'krpc-'))
    await writeFile(join(dir, 'methods.mjs'), [
      "import { RpcError } from '@formcall/server/methods'",
      'export const math = { add: (a, b) => a + b, sum: ({ a, b }) => a + b }',
      'export const files = { async read (file) { let text = ""; for await (const c of file) text += c; return { name: file.filename, type: file.type, text } } }',
      "export const fail = { application () { throw new RpcError(4001, 'no such account; check the account id', { account: 'a1' }) }, plain () { throw new Error('the disk is full') } }"
    ].join('\n'))
    await writeFile(join(dir, 'notes.txt'), 'hello from krpc\n')
    child = startChild(process.execPath, [...CLI_FROM_SOURCE, 'serve', join(dir, 'methods.mjs'), '--port', '0', '--path', '/', '--workers', '1'])
    const [, url] = await child.line(/listening on (\S+)/)
    port = Number(new URL(url as string).port)
  })
  after(async () => {
    await child?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('gets results, and every error as KRPCClientException with code, message and data', async () => {
    const outcomes = await runKrpc(port, [
      { method: 'math.add', args: [2, 3] },
      { method: 'math.sum', kwargs: { a: 2, b: 40 } },
      { method: 'files.read', args: [null], files: { 0: join(dir, 'notes.txt') } },
      { method: 'nope', args: [] },
      { method: 'fail.application', args: [] },
      { method: 'fail.plain', args: [] }
    ])
    assert.deepEqual(outcomes.slice(0, 3), [
      { result: 5 },
      { result: 42 },
      { result: { name: 'notes.txt', type: 'text/plain', text: 'hello from krpc\n' } }
    ])
    const [missing, application, plain] = outcomes.slice(3)
    assert.equal(missing?.raised, 'KRPCClientException', JSON.stringify(missing))
    assert.equal(missing?.code, -32601)
    assert.deepEqual(application, { raised: 'KRPCClientException', code: 4001, message: 'no such account; check the account id', data: { account: 'a1' } })
    assert.equal(plain?.raised, 'KRPCClientException')
    assert.equal(plain?.code, -32000)
    assert.equal(plain?.message, 'the disk is full')
  })
})
