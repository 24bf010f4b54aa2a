import { isDeepStrictEqual } from 'node:util'
import { BenchChild } from '../support/child-process.js'
import type { SmallCallJob } from '../support/messages.js'
import { RssSampler } from '../support/rss-sampler.js'
import type { BenchSettings } from '../support/settings.js'

/** One small-call row: a server and the body autocannon sends it. */
export interface SmallCallRowSpec {
  /** Stable id, also the key in the JSON results: `calls/formcall-json/inline`, `calls/bare-fastify-json`. */
  id: string
  mode: string
  server: string
  /** The body column: `json` or `multipart` (json part only). */
  body: 'json' | 'multipart'
  serverEntry: string
  serverArgs: string[]
  contentType: string
  payload: string
}

/** What one small-call row measured. */
export interface SmallCallRowResult {
  id: string
  mode: string
  server: string
  body: 'json' | 'multipart'
  status: 'ok' | 'failed'
  note?: string
  requestsPerSecond?: number
  requestsTotal?: number
  latencyP50Ms?: number
  latencyP99Ms?: number
  latencyMaxMs?: number
  /** Requests that failed: connection errors, timeouts, non-2xx answers, answers other than the expected body. */
  errors?: { errors: number, timeouts: number, non2xx: number, mismatches: number }
  /** Highest server RSS sampled while autocannon ran. */
  serverRssPeak?: number | null
}

/** The call every small-call row sends, and the answer it must get. */
export const ECHO_CALL = JSON.stringify({ jsonrpc: '2.0', method: 'echo', params: ['hello'], id: 1 })
export const ECHO_ANSWER = { jsonrpc: '2.0', id: 1, result: 'hello' }

/**
 * Runs one small-call row: starts the server in its own process, checks one call's answer, then runs autocannon in
 * another process for the configured duration after a short warm-up.
 */
export async function runSmallCallRow (spec: SmallCallRowSpec, settings: BenchSettings): Promise<SmallCallRowResult> {
  const base: SmallCallRowResult = { id: spec.id, mode: spec.mode, server: spec.server, body: spec.body, status: 'failed' }
  const server = BenchChild.start(spec.serverEntry, spec.serverArgs)
  let load: BenchChild | undefined
  const sampler = new RssSampler(settings.sampleMs)
  try {
    const ready = await server.next('ready', 30_000)
    if (ready.type !== 'ready') return { ...base, note: ready.reason }
    const url = `http://127.0.0.1:${ready.port}/rpc`
    const headers = { 'content-type': spec.contentType }

    // One call first: a server that answers something else would make the rate meaningless.
    const check = await fetch(url, { method: 'POST', headers, body: spec.payload })
    const expectBody = await check.text()
    if (check.status !== 200 || !isDeepStrictEqual(parseOrText(expectBody), ECHO_ANSWER)) {
      return { ...base, note: `the check call got HTTP ${check.status}: ${expectBody.slice(0, 200)}` }
    }

    sampler.watch(server.pid)
    const job: SmallCallJob = {
      url,
      headers,
      body: spec.payload,
      expectBody,
      connections: settings.connections,
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds
    }
    load = BenchChild.start('load/small-calls.ts', [JSON.stringify(job)])
    const done = await load.next('small-calls', (settings.seconds + settings.warmupSeconds) * 1000 + 60_000)
    sampler.stop()
    if (done.type !== 'small-calls') return { ...base, note: done.reason }
    const errors = { errors: done.errors, timeouts: done.timeouts, non2xx: done.non2xx, mismatches: done.mismatches }
    const failed = errors.errors + errors.timeouts + errors.non2xx + errors.mismatches
    return {
      ...base,
      status: failed === 0 ? 'ok' : 'failed',
      ...(failed === 0 ? {} : { note: `${failed} requests failed: ${JSON.stringify(errors)}` }),
      requestsPerSecond: done.requestsPerSecond,
      requestsTotal: done.requestsTotal,
      latencyP50Ms: done.latencyP50Ms,
      latencyP99Ms: done.latencyP99Ms,
      latencyMaxMs: done.latencyMaxMs,
      errors,
      serverRssPeak: sampler.peak(server.pid)
    }
  } catch (err) {
    return { ...base, note: (err as Error).message }
  } finally {
    sampler.stop()
    await load?.stop()
    await server.stop()
  }
}

function parseOrText (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
