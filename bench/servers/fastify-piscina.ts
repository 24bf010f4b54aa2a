/**
 * Child process: a bare Fastify route that hands each call's parsed JSON body to a piscina pool, whose task answers
 * the bare route's echo envelope (`piscina-echo.mjs`). The pool is set as formcall's worker mode sets its own: as many
 * threads as the worker variant, one task per thread at a time, idle threads parked on their event loop (no
 * Atomics.wait), no timing histograms. The worker rows' floor: one round trip to a pooled thread and back, with
 * nothing of formcall around it.
 */
import Fastify from 'fastify'
import { Piscina } from 'piscina'
import { WORKER_POOL_SIZE } from './formcall-variants.js'
import { serveChild } from './serve-child.js'

const pool = new Piscina({
  filename: new URL('./piscina-echo.mjs', import.meta.url).href,
  minThreads: WORKER_POOL_SIZE,
  maxThreads: WORKER_POOL_SIZE,
  concurrentTasksPerWorker: 1,
  atomics: 'disabled',
  idleTimeout: Number.MAX_SAFE_INTEGER,
  recordTiming: false
})
const app = Fastify()
app.post('/rpc', async (request) => await pool.run(request.body))
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('the Fastify + piscina server has no TCP address')
serveChild(address.port, async () => {
  await app.close()
  await pool.destroy()
})
