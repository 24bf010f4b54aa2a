/**
 * keepWorkerViews on a real piscina pool: its balancer gets the same view of a worker on every call, and the view
 * still reads the worker's live state.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { Piscina } from 'piscina'
import { keepWorkerViews } from '../src/dispatch/worker/worker-views.js'

/** A task answering its number doubled, in plain JavaScript (a worker thread has no TypeScript loader). */
const WORKER = new URL('./support/double-task.mjs', import.meta.url).href

interface View { readonly id: number, readonly currentUsage: number }

/** A pool of `threads` that records the views its balancer is given, and picks the first idle worker. */
function recordingPool (threads: number): { pool: Piscina, seen: View[][] } {
  const seen: View[][] = []
  const pool = new Piscina({
    filename: WORKER,
    minThreads: threads,
    maxThreads: threads,
    atomics: 'disabled',
    loadBalancer: (_task, workers) => {
      seen.push([...workers] as unknown as View[])
      return workers.find((w) => w.currentUsage === 0) ?? null
    }
  })
  return { pool, seen }
}

describe('keepWorkerViews', { timeout: 30_000 }, () => {
  it('hands the balancer one kept view per worker, call after call', async () => {
    const { pool, seen } = recordingPool(2)
    keepWorkerViews(pool)
    try {
      await once(pool, 'workerCreate')
      for (let n = 0; n < 5; n++) assert.equal(await pool.run(n), n * 2)
      const later = seen.slice(-3)
      assert.ok(later.length === 3 && later.every((views) => views.length === 2), `views seen: ${JSON.stringify(seen.map((v) => v.length))}`)
      for (const views of later.slice(1)) {
        for (const [i, view] of views.entries()) assert.equal(view, later[0]?.[i], 'a worker got a new view for a later call')
      }
    } finally {
      await pool.destroy()
    }
  })

  it('keeps views that read the live state of their worker', async () => {
    const { pool, seen } = recordingPool(1)
    keepWorkerViews(pool)
    try {
      await once(pool, 'workerCreate')
      await pool.run(1)
      const view = seen.at(-1)?.[0]
      assert.ok(view !== undefined)
      assert.equal(view.currentUsage, 0)
      const running = pool.run(2)
      // The balancer ran for the task just given out: that worker now counts it.
      assert.equal(seen.at(-1)?.[0], view)
      assert.equal(view.currentUsage, 1)
      assert.equal(await running, 4)
      assert.equal(view.currentUsage, 0)
      assert.equal(view.id, pool.threads[0]?.threadId)
    } finally {
      await pool.destroy()
    }
  })
})
