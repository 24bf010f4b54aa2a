/**
 * DeadlineBoard: many deadlines of one duration on one timer. Real timers, short durations; each test waits for what
 * it checks with an event, and bounds only the time it may wait (a hang), never how fast something happened.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { DeadlineBoard } from '../src/route/deadline-board.js'

const HANG = { timeout: 20_000 }

/** Resolves with the time (performance.now()) at which the deadline expired. */
function expiry (board: DeadlineBoard): Promise<number> {
  return new Promise((resolve) => { board.add(() => resolve(performance.now())) })
}

describe('DeadlineBoard', () => {
  // The board's timer does not keep the process alive (a server's listener does): this one stands in for it.
  let alive: NodeJS.Timeout
  before(() => { alive = setInterval(() => {}, 1000) })
  after(() => clearInterval(alive))

  it('expires a deadline once its duration has passed, never before', HANG, async () => {
    for (const duration of [20, 50, 120]) {
      const board = new DeadlineBoard(duration)
      const added = performance.now()
      const expired = await expiry(board)
      assert.ok(expired - added >= duration, `a ${duration} ms deadline expired after ${expired - added} ms`)
    }
  })

  it('expires deadlines in the order they were added, each once', HANG, async () => {
    const board = new DeadlineBoard(20)
    const order: number[] = []
    const all = Array.from({ length: 50 }, async (_, index) => {
      await sleep(index % 5)
      await new Promise<void>((resolve) => board.add(() => { order.push(index); resolve() }))
    })
    await Promise.all(all)
    await sleep(60)
    assert.equal(order.length, 50)
    assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i))
  })

  it('never expires a cancelled deadline, and cancelling twice is harmless', HANG, async () => {
    const board = new DeadlineBoard(20)
    let cancelledExpired = false
    const cancelled = board.add(() => { cancelledExpired = true })
    const kept = expiry(board)
    cancelled.cancel()
    cancelled.cancel()
    await kept
    await sleep(60)
    assert.equal(cancelledExpired, false)
  })

  it('never expires anything with a duration of 0 (off)', HANG, async () => {
    const board = new DeadlineBoard(0)
    let expired = false
    const deadline = board.add(() => { expired = true })
    await sleep(50)
    deadline.cancel()
    assert.equal(expired, false)
  })

  it('keeps expiring the others when one expiry throws, and reports it as a warning', HANG, async () => {
    const board = new DeadlineBoard(20)
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve))
    board.add(() => { throw new Error('an expiry that throws') })
    const after = expiry(board)
    await after
    const warning = await warned
    assert.equal(warning.message, 'an expiry that throws')
  })

  it('expires a deadline added by an expiry one duration later, as a watchdog measuring windows does', HANG, async () => {
    const board = new DeadlineBoard(20)
    const first = await expiry(board)
    const second = await expiry(board)
    assert.ok(second - first >= 20)
  })

  it('expires a long-lived deadline behind thousands of cancelled ones, and none of those', HANG, async () => {
    // Enough cancelled entries behind a waiting one that the queue compacts itself, more than once.
    const board = new DeadlineBoard(50)
    const long = expiry(board)
    let cancelledExpired = 0
    for (let i = 0; i < 20_000; i++) board.add(() => { cancelledExpired++ }).cancel()
    const later = expiry(board)
    await long
    await later
    await sleep(120)
    assert.equal(cancelledExpired, 0)
  })

  it('expires every due deadline once when an expiry cancels thousands of others', HANG, async () => {
    const board = new DeadlineBoard(20)
    const others: Array<{ cancel (): void }> = []
    let othersExpired = 0
    let firstExpired = 0
    board.add(() => { firstExpired++; for (const other of others) other.cancel() })
    for (let i = 0; i < 5000; i++) others.push(board.add(() => { othersExpired++ }))
    const last = expiry(board)
    await last
    await sleep(60)
    assert.deepEqual({ firstExpired, othersExpired }, { firstExpired: 1, othersExpired: 0 })
  })

  it('drops every waiting deadline on clear(), and takes new ones after', HANG, async () => {
    const board = new DeadlineBoard(20)
    let expired = false
    board.add(() => { expired = true })
    board.add(() => { expired = true })
    const stale = board.add(() => { expired = true })
    board.clear()
    stale.cancel()
    await sleep(60)
    assert.equal(expired, false)
    await expiry(board)
  })
})
