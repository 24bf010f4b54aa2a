import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { decodeEnvelope } from '../src/client/index.js'
import { ANSWER_ROWS, assertAnswerOutcome, outcomeOf } from './support/answer-vectors.js'

const CALL_ID = 7

describe('the client answer vectors', () => {
  test('every row names its behaviour, no two rows share a name, and each expects exactly one outcome', () => {
    const names = ANSWER_ROWS.map((row) => row.what)
    for (const name of names) assert.ok(name.length > 10, `row name "${name}"`)
    assert.equal(new Set(names).size, names.length)
    for (const row of ANSWER_ROWS) {
      assert.equal(Object.keys(row.expected).length, 1, row.what)
      assert.ok(['result', 'rpcError', 'transportError'].includes(Object.keys(row.expected)[0] as string), row.what)
    }
  })
})

// The shared decoder alone, on each row's body with the call's id filled in: a failure here is the rule's, not a
// transport's. The clients' own tests replay the same rows over HTTP.
describe('decodeEnvelope gives each row\'s outcome', () => {
  for (const row of ANSWER_ROWS) {
    test(row.what, async () => {
      const text = row.response.body.replaceAll('{{id+1}}', String(CALL_ID + 1)).replaceAll('{{id}}', String(CALL_ID))
      const contentType = Object.entries(row.response.headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1]
      const context = { id: CALL_ID, label: 'call "answer"', status: row.response.status, contentType }
      assertAnswerOutcome(row, await outcomeOf((async () => decodeEnvelope(text, context))()))
    })
  }
})
