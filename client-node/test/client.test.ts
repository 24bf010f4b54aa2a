import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { after, before, describe, test } from 'node:test'
import { createClient } from '../src/index.js'
import { startRecordingServer, type RecordingServer } from './support/recording-server.js'

let server: RecordingServer

before(async () => {
  server = await startRecordingServer()
})
after(async () => {
  await server.close()
})

/** Runs `action` and returns how many requests the server received meanwhile. */
async function requestsDuring (action: () => unknown): Promise<number> {
  const count = server.requests.length
  await action()
  // Let a stray request, if any, reach the server before counting.
  await createClient(server.url).$call('flush')
  return server.requests.length - count - 1
}

describe('the client proxy', () => {
  test('is not thenable: awaiting the client or a namespace gives it back and sends nothing', async () => {
    const api = createClient(server.url)
    assert.equal(await requestsDuring(async () => {
      assert.equal(await api, api)
      assert.equal(await api.files, api.files)
      assert.equal((api as unknown as { then: unknown }).then, undefined)
      assert.equal((api.files as unknown as { then: unknown }).then, undefined)
    }), 0)
  })

  test('answers symbol keys with undefined and can be inspected, printed and stringified without calling the server', async () => {
    const api = createClient(server.url)
    assert.equal(await requestsDuring(() => {
      assert.equal((api as unknown as Record<symbol, unknown>)[Symbol.iterator], undefined)
      assert.equal((api as unknown as Record<symbol, unknown>)[Symbol.toPrimitive], undefined)
      assert.equal((api as unknown as Record<symbol, unknown>)[Symbol.asyncIterator], undefined)
      assert.equal(inspect(api), '[Function: formcall client]')
      assert.equal(inspect(api.files.store), '[Function: files.store]')
      assert.equal(typeof String(api.files), 'string')
      assert.equal(JSON.stringify({ api }), '{}')
      assert.equal(Object.prototype.toString.call(api), '[object Function]')
    }), 0)
  })

  test('gives the same proxy for the same path', () => {
    const api = createClient(server.url)
    assert.equal(api.files.store, api.files.store)
  })

  test('treats function-like names such as call, apply, bind, name and length as method names', async () => {
    const api = createClient(server.url)
    await api.phone.call('555-0100')
    assert.equal(server.requests.at(-1)?.call.method, 'phone.call')
    // (The untyped client's types see Function's own `length` here; a typed client has no such clash.)
    await (api.stats as unknown as { length: () => Promise<unknown> }).length()
    assert.equal(server.requests.at(-1)?.call.method, 'stats.length')
  })

  test('reaches names the proxy reserves through $call', async () => {
    const api = createClient(server.url)
    await api.$call('then', [1])
    assert.equal(server.requests.at(-1)?.call.method, 'then')
    await api.$call('$odd.toString')
    assert.equal(server.requests.at(-1)?.call.method, '$odd.toString')
  })

  test('has no other $-prefixed members, and $call and $with only at the root', () => {
    const api = createClient(server.url)
    assert.equal((api as unknown as Record<string, unknown>).$other, undefined)
    assert.equal((api.files as unknown as Record<string, unknown>).$call, undefined)
  })

  test('rejects a call of the client itself with what to call instead', async () => {
    const api = createClient(server.url) as unknown as () => Promise<unknown>
    await assert.rejects(api(), /the client itself is not a method: call api\.someMethod/)
  })

  test('cannot be assigned to', () => {
    const api = createClient(server.url) as unknown as Record<string, unknown>
    assert.throws(() => { api.files = 1 }, TypeError)
  })

  test('$with layers options: headers merge, later settings win', async () => {
    const api = createClient(server.url, { headers: { 'x-a': 'client', 'x-b': 'client' } })
    await api.$with({ headers: { 'x-b': 'first' } }).$with({ headers: { 'x-c': 'second' } }).echo()
    const headers = server.requests.at(-1)?.headers
    assert.deepEqual([headers?.['x-a'], headers?.['x-b'], headers?.['x-c']], ['client', 'first', 'second'])
  })

  test('$call rejects a missing method name or params that are neither an array nor an object', async () => {
    const api = createClient(server.url)
    await assert.rejects(api.$call(''), /\$call needs a method name/)
    await assert.rejects(api.$call('echo', 'hi' as unknown as unknown[]), /params must be an array \(positional\) or an object \(named\)/)
  })
})

describe('createClient', () => {
  test('refuses a URL that is not absolute http or https, with an example of one that works', () => {
    assert.throws(() => createClient('/rpc'), /absolute URL of a formcall endpoint, e\.g\. "http:\/\/localhost:8080\/rpc"/)
    assert.throws(() => createClient('ftp://example.com/rpc'), /needs an http: or https: URL; got ftp:/)
  })

  test('refuses options of the wrong type where they are written', () => {
    assert.throws(() => createClient(server.url, { timeout: -1 }), /timeout must be a number of milliseconds/)
    assert.throws(() => createClient(server.url, { signal: {} as AbortSignal }), /signal must be an AbortSignal/)
    assert.throws(() => createClient(server.url).$with({ onUploadProgress: 1 as never }), /onUploadProgress must be a function/)
  })

  test('accepts a URL object and keeps its path and query', async () => {
    const url = new URL(server.url)
    url.searchParams.set('tenant', 'a')
    await createClient(url).echo()
    assert.equal(server.requests.at(-1)?.path, '/rpc?tenant=a')
  })
})
