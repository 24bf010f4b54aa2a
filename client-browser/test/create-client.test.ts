import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient } from '../src/index.js'

test('the client is not thenable, so awaiting it or a namespace gives it back instead of calling "then"', async () => {
  const api = createClient('http://127.0.0.1:1/rpc')

  assert.equal((api as unknown as { then: unknown }).then, undefined)
  assert.equal((api.files as unknown as { then: unknown }).then, undefined)
  assert.equal(await api, api)
})

test('symbol-keyed lookups get undefined rather than a method proxy', () => {
  const api = createClient('/rpc') as unknown as Record<symbol, unknown>

  assert.equal(api[Symbol.toPrimitive], undefined)
  assert.equal(api[Symbol.iterator], undefined)
})

test('calling the client itself rejects with a TypeError that names the fix', async () => {
  const api = createClient('/rpc') as unknown as () => Promise<unknown>

  await assert.rejects(api(), { name: 'TypeError', message: 'the client itself is not a method: call api.someMethod(...)' })
})

test('$call and $with are the client\'s own members, and $with gives a client of the same kind', () => {
  const api = createClient('/rpc')

  assert.equal(typeof api.$call, 'function')
  const derived = api.$with({ timeout: 5 })
  assert.equal(typeof derived.$with, 'function')
  assert.equal((derived as unknown as { then: unknown }).then, undefined)
})

test('a negative timeout is refused when the options are given, with the accepted range', () => {
  assert.throws(() => createClient('/rpc', { timeout: -1 }), {
    name: 'TypeError',
    message: 'timeout must be a number of milliseconds >= 0 (0 means none), got -1'
  })
})
