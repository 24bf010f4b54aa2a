import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mergeCallOptions, noCallOptions } from '../src/call-options.js'

test('merged headers combine name by name, case-insensitively, the later value winning', () => {
  const base = mergeCallOptions(noCallOptions(), { headers: { Authorization: 'Bearer a', 'X-Tenant': 'acme' } })
  const merged = mergeCallOptions(base, { headers: [['authorization', 'Bearer b']] })

  assert.deepEqual([...merged.headers], [['authorization', 'Bearer b'], ['x-tenant', 'acme']])
  assert.equal(base.headers.get('authorization'), 'Bearer a', 'the base options are unchanged')
})

test('every signal given along the way is kept, so any of them can cancel the call', () => {
  const first = new AbortController().signal
  const second = new AbortController().signal
  const merged = mergeCallOptions(mergeCallOptions(noCallOptions(), { signal: first }), { signal: second })

  assert.deepEqual(merged.signals, [first, second])
})

test('timeout, onUploadProgress and withCredentials are overridden by later options and kept when absent', () => {
  const report = (): void => {}
  const base = mergeCallOptions(noCallOptions(), { timeout: 1000, onUploadProgress: report, withCredentials: true })

  const kept = mergeCallOptions(base, {})
  assert.equal(kept.timeout, 1000)
  assert.equal(kept.onUploadProgress, report)
  assert.equal(kept.withCredentials, true)

  const overridden = mergeCallOptions(base, { timeout: 0, withCredentials: false })
  assert.equal(overridden.timeout, 0)
  assert.equal(overridden.withCredentials, false)
})
