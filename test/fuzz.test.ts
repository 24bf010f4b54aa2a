/**
 * A fast seeded slice of the fuzzer (test/fuzz/, `pnpm fuzz` runs the full campaign): 600 mutated requests over real
 * sockets to a real server in child processes, half inline and half in worker isolation. No input may crash the
 * process or go unanswered, every JSON error carries a registered code (or the methods' own), and the server keeps
 * answering normal calls between the cases.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { errorInfo } from '@formcall/spec'
import { formatReport, runFuzz, type FuzzReport } from './fuzz/campaign.js'
import { corpus } from './fuzz/corpus.js'
import { APPLICATION_CODES, sendDraft } from './fuzz/send-case.js'
import { FuzzServer } from './fuzz/server-child.js'

/** Not `pnpm fuzz`'s default seed, so the slice and the full run cover different cases. */
const SEED = 7
const CASES = 600

describe('fuzzing the server with mutated requests (seeded slice)', () => {
  let report: FuzzReport
  before(async () => {
    report = await runFuzz({ seed: SEED, cases: CASES })
    process.stdout.write(formatReport(report) + '\n')
  })

  it('runs every case, split between the inline and the worker server', () => {
    assert.equal(report.cases, CASES)
    for (const mode of ['inline', 'worker'] as const) {
      assert.equal(Object.values(report.counts[mode]).reduce((a, b) => a + b, 0), CASES / 2, mode)
    }
  })

  it('no mutated request crashes the server process', () => {
    assert.deepEqual(report.findings.filter((f) => f.kind === 'crashed'), [])
    assert.equal(report.counts.inline.crashed + report.counts.worker.crashed, 0)
  })

  it('every mutated request is answered or closed before the hang timeout', () => {
    assert.deepEqual(report.findings.filter((f) => f.kind === 'hung'), [])
    assert.equal(report.counts.inline.hung + report.counts.worker.hung, 0)
  })

  it('the server answers normal calls after every window of mutated requests', () => {
    assert.deepEqual(report.findings.filter((f) => f.kind === 'unhealthy'), [])
    assert.ok(report.healthChecks > 0)
  })

  it('every JSON error carries a registered code or one the methods raise, with the HTTP status of its code', () => {
    const unknown = Object.keys(report.codes).map(Number).filter((code) => errorInfo(code) === undefined && !APPLICATION_CODES.includes(code))
    assert.deepEqual(unknown, [])
    assert.deepEqual(report.findings.filter((f) => f.kind === 'problem'), [])
  })

  it('the mutations reach the server\'s parsers: cases end as JSON errors, results and HTTP-level errors', () => {
    for (const c of ['json-error', 'result', 'http-error'] as const) {
      assert.ok(report.counts.inline[c] + report.counts.worker[c] > 0, c)
    }
    // Framing, JSON and limits all fail somewhere in the slice.
    for (const code of [-32700, -32600, -32004]) assert.ok((report.codes[code] ?? 0) > 0, String(code))
  })
})

describe('requests answered before their body arrived (found by the fuzzer)', () => {
  // Each is answered at once without its body being read; the client then sends nothing more and keeps the
  // connection open. bodyTimeout (1 s on the fuzz server) fired on the unread body and its error, with no listener,
  // ended the process (plugin.ts bodyWithin).
  const EARLY_ANSWERS: ReadonlyArray<readonly [what: string, method: string, type: string, length: number]> = [
    ['an unsupported content type (415)', 'POST', 'text/plain', 1000],
    ['a GET while GET is disabled (405)', 'GET', 'application/json', 1000],
    ['a Content-Length over callSize (413)', 'POST', 'application/json', 300 * 1024]
  ]
  for (const mode of ['inline', 'worker'] as const) {
    it(`${mode}: the server survives the body timeout of a request it already answered, and keeps serving`, async () => {
      const server = await FuzzServer.start(mode)
      try {
        const answers = await Promise.all(EARLY_ANSWERS.map(async ([what, method, type, length]) => {
          const draft = { ...(corpus().find((entry) => entry.seed === 'json call') as ReturnType<typeof corpus>[number]) }
          draft.method = method
          draft.headers = [['Host', '127.0.0.1'], ['Content-Type', type], ['Connection', 'close']]
          draft.callText = undefined
          draft.body = Buffer.from('{"method":')
          draft.framing = { kind: 'length-raw', value: String(length) }
          return [what, await sendDraft(server.url, draft, 5000)] as const
        }))
        for (const [what, outcome] of answers) assert.equal(outcome.class, 'json-error', `${what}: ${outcome.detail}`)
        // Past the fuzz server's bodyTimeout of 1 s.
        await new Promise((resolve) => setTimeout(resolve, 1500))
        assert.equal(server.alive, true, `the server exited:\n${server.outputTail()}`)
        const health = await sendDraft(server.url, corpus().find((entry) => entry.seed === 'json call') as ReturnType<typeof corpus>[number], 5000)
        assert.equal(health.class, 'result')
      } finally {
        await server.dispose()
      }
    })
  }
})
