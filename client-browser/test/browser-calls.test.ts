import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { useBrowserSuite } from './support/browser-suite.js'

const suite = useBrowserSuite()

test('a call without files travels as a JSON-RPC 2.0 body and resolves with the result', async () => {
  const page = await suite.openPage()
  const result = await page.evaluate(async (rpcUrl) => {
    const api = window.formcall.createClient(rpcUrl)
    return await api.echo({ greeting: 'hi', list: [1, 'two', null] })
  }, suite.rpcUrl)

  assert.deepEqual(result, { greeting: 'hi', list: [1, 'two', null] })
  const request = suite.rpc.received.at(-1)
  assert.equal(request?.contentType, 'application/json')
  assert.deepEqual(request?.call, { jsonrpc: '2.0', id: 1, method: 'echo', params: [{ greeting: 'hi', list: [1, 'two', null] }] })
})

test('nested namespaces, $call and $with reach the dotted method with the merged headers', async () => {
  const page = await suite.openPage()
  const seen = await page.evaluate(async (rpcUrl) => {
    const api = window.formcall.createClient(rpcUrl, { headers: { 'x-tenant': 'acme' } })
    const traced = api.$with({ headers: { 'x-trace': 't1' } })
    return {
      tenant: await api.request.header('x-tenant'),
      tracedTenant: await traced.request.header('x-tenant'),
      trace: await traced.request.header('x-trace'),
      untraced: await api.request.header('x-trace'),
      byName: await api.$call('request.header', ['x-trace'], { headers: { 'x-trace': 't2' } })
    }
  }, suite.rpcUrl)

  assert.deepEqual(seen, { tenant: 'acme', tracedTenant: 'acme', trace: 't1', untraced: null, byName: 't2' })
})

test('an error envelope rejects with an RpcError carrying its code, message and data', async () => {
  const page = await suite.openPage()
  const error = await page.evaluate(async (rpcUrl) => {
    const { createClient, RpcError } = window.formcall
    try {
      await createClient(rpcUrl).fail(4001, 'quota reached: delete a file or upgrade the plan', { limit: 5, used: 5 })
    } catch (err) {
      if (!(err instanceof RpcError)) throw err
      return { name: err.name, code: err.code, message: err.message, data: err.data, codeName: err.codeName }
    }
    throw new Error('the call resolved')
  }, suite.rpcUrl)

  assert.deepEqual(error, {
    name: 'RpcError',
    code: 4001,
    message: 'quota reached: delete a file or upgrade the plan',
    data: { limit: 5, used: 5 },
    codeName: 'APPLICATION_ERROR'
  })
})

test('an unknown method rejects with the registered METHOD_NOT_FOUND code', async () => {
  const page = await suite.openPage()
  const error = await page.evaluate(async (rpcUrl) => {
    const { createClient, ErrorCode, isRpcError } = window.formcall
    try {
      await createClient(rpcUrl).no.such.method()
    } catch (err) {
      if (!isRpcError(err)) throw err
      return { code: err.code, isMethodNotFound: err.code === ErrorCode.METHOD_NOT_FOUND, codeName: err.codeName }
    }
    throw new Error('the call resolved')
  }, suite.rpcUrl)

  assert.deepEqual(error, { code: -32601, isMethodNotFound: true, codeName: 'METHOD_NOT_FOUND' })
})

test('an answer that is not a formcall envelope rejects with a protocol TransportError and the HTTP status', async () => {
  const page = await suite.openPage()
  const error = await page.evaluate(async (origin) => {
    const { createClient, TransportError } = window.formcall
    try {
      await createClient(`${origin}/proxy-error`).echo('hi')
    } catch (err) {
      if (!(err instanceof TransportError)) throw err
      return { kind: err.kind, status: err.status, message: err.message }
    }
    throw new Error('the call resolved')
  }, suite.origin)

  assert.equal(error.kind, 'protocol')
  assert.equal(error.status, 502)
  assert.match(error.message, /HTTP 502 \(text\/html; charset=utf-8\) that is not a formcall answer: a body that is not JSON; the body was "<html><body><h1>502 Bad Gateway/)
})

test('a server nobody listens on rejects with a network TransportError', async () => {
  const closedPort = await unusedPort()
  const page = await suite.openPage()
  const error = await page.evaluate(async (url) => {
    const { createClient, TransportError } = window.formcall
    try {
      await createClient(url).echo('hi')
    } catch (err) {
      if (!(err instanceof TransportError)) throw err
      return { kind: err.kind, hasStatus: 'status' in err }
    }
    throw new Error('the call resolved')
  }, `http://127.0.0.1:${closedPort}/rpc`)

  assert.deepEqual(error, { kind: 'network', hasStatus: false })
})

test('a call the server never answers rejects with a timeout TransportError once the timeout option runs out', async () => {
  const page = await suite.openPage()
  const error = await page.evaluate(async (rpcUrl) => {
    const { createClient, TransportError } = window.formcall
    try {
      await createClient(rpcUrl).$with({ timeout: 200 }).hold()
    } catch (err) {
      if (!(err instanceof TransportError)) throw err
      return { kind: err.kind, message: err.message }
    }
    throw new Error('the call resolved')
  }, suite.rpcUrl)

  assert.deepEqual(error, {
    kind: 'timeout',
    message: 'call "hold" got no answer within 200 ms; raise the timeout option if the call is expected to take longer'
  })
})

test('a signal aborted before the call rejects at once with an aborted TransportError and sends nothing', async () => {
  const page = await suite.openPage()
  const receivedBefore = suite.rpc.received.length
  const error = await page.evaluate(async (rpcUrl) => {
    const { createClient, TransportError } = window.formcall
    try {
      await createClient(rpcUrl, { signal: AbortSignal.abort('not needed') }).echo('never sent')
    } catch (err) {
      if (!(err instanceof TransportError)) throw err
      return { kind: err.kind, cause: err.cause }
    }
    throw new Error('the call resolved')
  }, suite.rpcUrl)

  assert.deepEqual(error, { kind: 'aborted', cause: 'not needed' })
  assert.equal(suite.rpc.received.length, receivedBefore)
})

test('trailing undefined arguments are left out of params, so the method\'s default values apply', async () => {
  const page = await suite.openPage()
  await page.evaluate(async (rpcUrl) => {
    await window.formcall.createClient(rpcUrl).echo('hi', undefined, undefined)
  }, suite.rpcUrl)

  assert.deepEqual(suite.rpc.received.at(-1)?.call.params, ['hi'])
})

/** A port on 127.0.0.1 that was free a moment ago and that nothing listens on now. */
async function unusedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}
