/**
 * A bounded mixed load against a server with default options (methods in the default worker pool, no tuning): 500
 * small JSON calls and 50 uploads of 1–8 MiB, all sent at once through @formcall/client-node over loopback. Every
 * call must be answered (no refusal: no OVERLOADED, no error of any kind) and every upload's SHA-256, computed by the
 * method as it streams in, must equal the client's.
 *
 * Sizes and contents come from a seeded PRNG: the seed is printed, and `FORMCALL_SEED=<seed>` replays a run.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Agent } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createClient, isRpcError, isTransportError } from '@formcall/client-node'
import { sha256 } from './support/bytes.js'
import type poolMethods from './support/pool-methods.js'
import { POOL_METHODS } from './support/pool-server.js'
import { SeededRandom, testSeed } from './support/seeded-random.js'
import { postJson } from './support/raw-http.js'
import { startServer, type RunningServer } from './support/start-server.js'
import { waitFor } from './support/wait.js'

const MiB = 1024 * 1024
const SMALL_CALLS = 500
const UPLOADS = 50
const MIN_UPLOAD = 1 * MiB
const MAX_UPLOAD = 8 * MiB
const SEED = testSeed(0x10ad)
/**
 * A hang guard for one call, not a performance expectation: a call still unanswered after this long counts as a
 * refusal (the client rejects it with a timeout), so the test ends in bounded time either way.
 */
const CALL_TIMEOUT = 60_000
/** Uploads are slices of this random block at random offsets: distinct contents without 225 MiB of random bytes. */
const POOL = randomBytes(MAX_UPLOAD + 8 * MiB)

/** How a call that did not succeed failed: the server's error code, or the transport's failure kind. */
function failureKind (err: unknown): string {
  if (isRpcError(err)) return `rpc ${err.code}: ${err.message}`
  if (isTransportError(err)) return `transport ${err.kind}: ${err.message}`
  return `other: ${String((err as Error)?.message ?? err)}`
}

describe('a mixed load against a server with default options', () => {
  let server: RunningServer
  const agent = new Agent({ keepAlive: true })

  before(async () => {
    // Default options: only the spool directory is the test's (startServer gives each server its own).
    server = await startServer({ methodsModule: POOL_METHODS })
  })
  after(async () => {
    agent.destroy()
    await server.close()
  })

  it('500 small calls and 50 uploads at once are all answered, with no refusal and no wrong digest', { timeout: 180_000 }, async (t) => {
    const random = new SeededRandom(SEED)
    const api = createClient<typeof poolMethods>(server.url, { agent, timeout: CALL_TIMEOUT })
    const uploads = Array.from({ length: UPLOADS }, () => {
      const size = random.int(MIN_UPLOAD, MAX_UPLOAD)
      const from = random.int(0, POOL.length - size)
      const content = POOL.subarray(from, from + size)
      return { content, sha256: sha256(content) }
    })

    const failures: Record<string, number> = {}
    const fail = (err: unknown): void => {
      const kind = failureKind(err)
      failures[kind] = (failures[kind] ?? 0) + 1
    }
    let wrongAnswers = 0
    let wrongDigests = 0
    const started = Date.now()
    // Small calls and uploads interleaved, all in flight together.
    const calls: Array<Promise<void>> = []
    for (let i = 0; i < SMALL_CALLS; i++) {
      calls.push(api.echo({ call: i, text: `small call ${i}` }).then((result) => {
        if (JSON.stringify(result) !== JSON.stringify({ call: i, text: `small call ${i}` })) wrongAnswers++
      }, fail))
      if (i % (SMALL_CALLS / UPLOADS) === 0) {
        const upload = uploads[i / (SMALL_CALLS / UPLOADS)] as (typeof uploads)[number]
        calls.push(api.uploads.digest(upload.content).then((result) => {
          if (result.size !== upload.content.length || result.sha256 !== upload.sha256) wrongDigests++
        }, fail))
      }
    }
    await Promise.all(calls)
    const durationMs = Date.now() - started

    const refusals = Object.values(failures).reduce((sum, n) => sum + n, 0)
    t.diagnostic(`figures ${JSON.stringify({
      seed: SEED,
      smallCalls: SMALL_CALLS,
      uploads: UPLOADS,
      uploadedMiB: Math.round(uploads.reduce((sum, u) => sum + u.content.length, 0) / MiB),
      refusals,
      failures,
      wrongAnswers,
      wrongDigests,
      durationMs
    })}`)

    assert.deepEqual(failures, {}, `${refusals} of ${SMALL_CALLS + UPLOADS} calls were refused or failed`)
    assert.equal(wrongAnswers, 0, 'every small call got its own params back')
    assert.equal(wrongDigests, 0, 'every upload arrived with the client\'s size and SHA-256')
    await waitFor(async () => (await server.tmpFiles()).length === 0, 'the spool directory to be empty')
  })

  it('a batch of the default maximum size (100 calls) is answered in full, with no OVERLOADED entry', async () => {
    const batch = Array.from({ length: 100 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'echo', params: [id] }))
    const res = await postJson(server.url, batch)
    assert.equal(res.status, 200, res.text)
    const answers = res.json() as Array<{ id: number, result?: number, error?: unknown }>
    assert.equal(answers.length, 100)
    assert.deepEqual(answers.filter((answer) => answer.result !== answer.id), [])
  })
})
