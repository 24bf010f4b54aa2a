/**
 * What a pool worker's isolation covers beyond one call: errors that surface after a method returned are never
 * charged to the next call on that worker, work a call leaves behind can be recycled away, and threads stuck in native
 * code cannot grow without bound.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { ErrorCode } from '@formcall/spec'
import { PoolChannel } from './support/pool-channel.js'
import { callJson, startPoolServer, threadCount, type PoolServer } from './support/pool-server.js'
import { postJson } from './support/raw-http.js'
import { waitFor } from './support/wait.js'

const PATIENCE = 20_000

/** A Fastify logger stream that keeps the lines, to see what the pool logged. */
function logLines (): { stream: Writable, lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''))
      done()
    }
  })
  return { stream, lines }
}

for (const kind of ['throwLater', 'rejectLater'] as const) {
  describe(`a late ${kind === 'throwLater' ? 'exception' : 'rejection'} left by a finished call (one worker)`, () => {
    let server: PoolServer
    const log = logLines()
    before(async () => {
      server = await startPoolServer({ workers: 1, fastify: { logger: { level: 'warn', stream: log.stream } } })
    })
    after(async () => await server.close())

    test('is not charged to the call running when it fires: that call completes, and the error is logged', async () => {
      const channel = new PoolChannel()
      try {
        const first = await callJson(server.url, `leftovers.${kind}`, [150, 'left behind by the first call'])
        assert.equal(first.body.result, 'returned')
        const victim = callJson(server.url, 'hold', [channel.name, 'victim'])
        const started = await channel.next((event) => event.event === 'started' && event.id === 'victim')
        await waitFor(() => log.lines.some((line) => line.includes('left behind by the first call')), 'the fault is logged', PATIENCE)
        channel.post({ event: 'release', id: 'victim' })
        const answer = await victim
        assert.equal(answer.status, 200, JSON.stringify(answer.body))
        assert.deepEqual(answer.body.result, { id: 'victim', threadId: started.threadId })
        const line = JSON.parse(log.lines.find((text) => text.includes('left behind by the first call')) as string)
        assert.match(line.msg, /no running call owns/)
        assert.equal(line.method, `leftovers.${kind}`)
      } finally {
        channel.close()
      }
    })

    test('the worker that saw it retires once idle and a fresh one serves the next calls', async () => {
      const before = (await callJson(server.url, 'whoami', [])).body.result as { threadId: number }
      await callJson(server.url, `leftovers.${kind}`, [20, 'again'])
      await waitFor(async () => ((await callJson(server.url, 'whoami', [])).body.result as { threadId: number }).threadId !== before.threadId,
        'a fresh worker serves', PATIENCE)
      assert.equal((await callJson(server.url, 'echo', ['fine'])).body.result, 'fine')
    })
  })
}

describe('work a call leaves behind', () => {
  let shared: PoolServer
  let recycling: PoolServer
  before(async () => {
    shared = await startPoolServer({ workers: 1 })
    recycling = await startPoolServer({ workers: 1, recycle: 'after-leftovers' })
  })
  after(async () => {
    await shared.close()
    await recycling.close()
  })

  test('by default keeps running in its worker, and later calls on that worker see its state', async () => {
    const { threadId } = (await callJson(shared.url, 'leftovers.tick', [])).body.result as { threadId: number }
    await new Promise((resolve) => setTimeout(resolve, 50))
    const seen = (await callJson(shared.url, 'leftovers.ticks', [])).body.result as { threadId: number, ticks: number | null }
    assert.equal(seen.threadId, threadId)
    assert.ok((seen.ticks ?? 0) > 0, 'the interval ticked on')
  })

  test('with recycle: after-leftovers, the worker is replaced and the next call sees none of it', async () => {
    const { threadId } = (await callJson(recycling.url, 'leftovers.tick', [])).body.result as { threadId: number }
    const seen = (await callJson(recycling.url, 'leftovers.ticks', [])).body.result as { threadId: number, ticks: number | null }
    assert.notEqual(seen.threadId, threadId)
    assert.equal(seen.ticks, null)
    // A call that leaves nothing keeps its worker.
    const again = (await callJson(recycling.url, 'leftovers.ticks', [])).body.result as { threadId: number }
    assert.equal(again.threadId, seen.threadId)
  })
})

describe('recycle: after-every-call (two workers)', () => {
  let server: PoolServer
  before(async () => { server = await startPoolServer({ workers: 2, recycle: 'after-every-call' }) })
  after(async () => await server.close())

  test('every call runs on a thread no earlier call used, and none fails while workers come and go', async () => {
    const threads: number[] = []
    await Promise.all([0, 1, 2].map(async () => {
      for (let i = 0; i < 10; i++) {
        const answer = await callJson(server.url, 'whoami', [])
        assert.equal(answer.status, 200, JSON.stringify(answer.body))
        threads.push((answer.body.result as { threadId: number }).threadId)
      }
    }))
    assert.equal(new Set(threads).size, threads.length)
  })
})

describe('threads stuck in native code (one worker, 300 ms call timeout)', () => {
  let server: PoolServer
  before(async () => { server = await startPoolServer({ workers: 1, callTimeout: 300 }) })
  after(async () => await server.close())

  test('count against the pool: past its size new calls get 503 OVERLOADED until the stuck thread exits', async () => {
    const baseline = await threadCount()
    const stuck = await callJson(server.url, 'crash.blockInNative', [3000])
    assert.equal(stuck.status, 504, JSON.stringify(stuck.body))
    assert.equal((stuck.body.error as { code: number }).code, ErrorCode.CALL_TIMEOUT)
    const refused = await postJson(server.url, { method: 'echo', params: ['while stuck'] })
    assert.equal(refused.status, 503, refused.text)
    assert.equal(refused.headers['retry-after'], '1', 'an overload says when to come back')
    assert.match(refused.json().error.message, /not exited yet/)
    assert.ok(await threadCount() <= baseline + 1, 'at most the replacement thread beside the stuck one')
    await waitFor(async () => (await callJson(server.url, 'echo', ['after'])).status === 200, 'the stuck thread exits', PATIENCE)
  })
})
