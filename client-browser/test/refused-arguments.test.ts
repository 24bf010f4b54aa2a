import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient } from '../src/index.js'
import type { CallOptions } from '../src/index.js'

// Refusals happen where the mistake is written, before any request: these run without a browser.
const wrongOptions: { what: string; options: unknown; message: RegExp }[] = [
  { what: 'a signal that is not an AbortSignal', options: { signal: {} }, message: /options\.signal must be an AbortSignal/ },
  { what: 'an onUploadProgress that is not a function', options: { onUploadProgress: 1 }, message: /options\.onUploadProgress must be a function; got number/ },
  { what: 'a string in place of the options object', options: 'fast', message: /options must be an object; got string/ }
]

for (const { what, options, message } of wrongOptions) {
  test(`${what} is refused with a TypeError by createClient and by $with`, () => {
    assert.throws(() => createClient('/rpc', options as CallOptions), { name: 'TypeError', message })
    assert.throws(() => createClient('/rpc').$with(options as CallOptions), { name: 'TypeError', message })
  })
}

test('$call refuses a missing method name and params that are neither an array nor an object', async () => {
  const api = createClient('/rpc')
  await assert.rejects(api.$call(''), { name: 'TypeError', message: /\$call needs a method name such as "files\.store"/ })
  await assert.rejects(api.$call('echo', 'hi' as unknown as unknown[]), { name: 'TypeError', message: /params must be an array \(positional\) or an object \(named\)/ })
})
