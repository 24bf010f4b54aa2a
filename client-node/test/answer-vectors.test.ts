import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { ANSWER_ROWS, assertAnswerOutcome, outcomeOf, replayAnswerRow } from '../../spec/test/support/answer-vectors.js'
import { createClient } from '../src/index.js'

// Each row of spec/vectors/client/answers.json, served as raw bytes by a loopback node:http server and called with
// the real client: the same table the browser client passes in Chromium (client-browser/test/answer-vectors.test.ts).
let server: http.Server
let url: string

before(async () => {
  server = http.createServer(replayAnswerRow)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`
})
after(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('the Node client decodes every client answer vector as listed', () => {
  ANSWER_ROWS.forEach((row, index) => {
    test(row.what, async () => {
      assertAnswerOutcome(row, await outcomeOf(createClient(`${url}?row=${index}`).answer()))
    })
  })
})
