import { describe, test } from 'node:test'
import { ANSWER_ROWS, assertAnswerOutcome, replayAnswerRow, type AnswerOutcome } from '../../spec/test/support/answer-vectors.js'
import { useBrowserSuite } from './support/browser-suite.js'

// Each row of spec/vectors/client/answers.json, served as raw bytes by the test site (same origin as the page, so
// every header and status reaches the client) and called from real Chromium: the same table the Node client passes
// (client-node/test/answer-vectors.test.ts).
const suite = useBrowserSuite({ handleRpc: replayAnswerRow })

describe('the browser client decodes every client answer vector as listed', () => {
  ANSWER_ROWS.forEach((row, index) => {
    test(row.what, async () => {
      const page = await suite.openPage()
      // The page's copy of outcomeOf (spec/test/support/answer-vectors.ts): code run in the page cannot import it.
      const outcome = await page.evaluate(async (url): Promise<AnswerOutcome> => {
        const { createClient, isRpcError, TransportError } = window.formcall
        try {
          return { result: await createClient(url).answer() }
        } catch (err) {
          if (isRpcError(err)) return { rpcError: { code: err.code, message: err.message, ...(err.data === undefined ? {} : { data: err.data }) } }
          if (err instanceof TransportError) return { transportError: { kind: err.kind, status: err.status, message: err.message } }
          return { otherError: String(err) }
        }
      }, `${suite.rpcUrl}?row=${index}`)
      assertAnswerOutcome(row, outcome)
    })
  })
})
