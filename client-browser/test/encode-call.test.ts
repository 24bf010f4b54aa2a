import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeCall } from '../src/encode/index.js'

test('params without files are encoded as a JSON-RPC 2.0 body with content type application/json', () => {
  const encoded = encodeCall({ id: 3, method: 'users.rename', params: ['u1', { name: 'Ada', since: new Date(0) }] })

  assert.equal(encoded.contentType, 'application/json')
  assert.equal(encoded.body,
    '{"jsonrpc":"2.0","id":3,"method":"users.rename","params":["u1",{"name":"Ada","since":"1970-01-01T00:00:00.000Z"}]}')
})

test('files at any depth become $file placeholders f0, f1, … and parts after the json field, in order', async () => {
  const avatar = new File(['png bytes'], 'avatar.png', { type: 'image/png' })
  const raw = new Blob(['raw bytes'])
  const named = Object.assign(Object.create(null) as Record<string, unknown>, { deep: [[raw]] })
  const encoded = encodeCall({ id: 1, method: 'profile.update', params: [{ avatar, nested: named }, 'x'] })

  assert.equal(encoded.contentType, null, 'the browser sets multipart/form-data with its boundary')
  assert.ok(encoded.body instanceof FormData)
  const entries = [...encoded.body.entries()]
  assert.deepEqual(entries.map(([name]) => name), ['json', 'f0', 'f1'])
  assert.deepEqual(JSON.parse(entries[0]?.[1] as string), {
    jsonrpc: '2.0',
    id: 1,
    method: 'profile.update',
    params: [{ avatar: { $file: 'f0' }, nested: { deep: [[{ $file: 'f1' }]] } }, 'x']
  })
  const [f0, f1] = [entries[1]?.[1] as File, entries[2]?.[1] as File]
  assert.equal(f0.name, 'avatar.png')
  assert.equal(await f0.text(), 'png bytes')
  assert.equal(f1.name, 'blob', 'a Blob has no name of its own')
  assert.equal(await f1.text(), 'raw bytes')
})

test('named params (one object) are walked for files like positional ones', () => {
  const encoded = encodeCall({ id: 2, method: 'notes.add', params: { title: 't', attachment: new Blob(['a']) } })

  assert.ok(encoded.body instanceof FormData)
  assert.deepEqual(JSON.parse(encoded.body.get('json') as string).params, { title: 't', attachment: { $file: 'f0' } })
})

test('the caller\'s params are left unchanged by encoding', () => {
  const file = new File(['x'], 'x.txt')
  const params = [{ file, list: [file] }]
  encodeCall({ id: 1, method: 'm', params })

  assert.equal(params[0]?.file, file)
  assert.equal(params[0]?.list[0], file)
})

test('the same object twice is fine, but params that refer back to themselves fail with a path to the cycle', () => {
  const shared = { a: 1 }
  assert.doesNotThrow(() => encodeCall({ id: 1, method: 'm', params: [shared, shared] }))

  const loop: Record<string, unknown> = { name: 'loop' }
  loop.self = { inner: [loop] }
  assert.throws(() => encodeCall({ id: 1, method: 'm', params: [loop] }), {
    name: 'TypeError',
    message: 'params contain a circular reference at params[0].self.inner[0]; params travel as JSON, which cannot hold cycles: ' +
      'pass a copy without the back-reference'
  })
})
