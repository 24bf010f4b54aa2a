import { isDeepStrictEqual } from 'node:util'
import { BenchChild } from '../support/child-process.js'
import type { SmallCallJob, SmallCallsDone } from '../support/messages.js'
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
  /** The method called: `echo`, or `echoZod` (the same echo, its param declared as a zod string). */
  method: EchoMethod
  serverEntry: string
  serverArgs: string[]
  contentType: string
  payload: string
  /**
   * A second call measured alternately with this row's in rounds (`settings.pairedRounds`), so the ratio of the two is
   * not one busy minute of a shared machine against another: in the same server process, or in a baseline server of
   * its own (`baseline`), started beside this row's and given the same body.
   */
  pairedWith?: { method: EchoMethod, payload: string, baseline?: BaselineServer }
}

/** The server a paired row's second call goes to when it is not the row's own: a baseline row's. */
export interface BaselineServer {
  /** The baseline row's id (`calls/bare-fastify-json`): the ratio stands for the one against that row. */
  id: string
  serverEntry: string
  serverArgs: string[]
}

/** What one small-call row measured. */
export interface SmallCallRowResult {
  id: string
  mode: string
  server: string
  body: 'json' | 'multipart'
  method: EchoMethod
  status: 'ok' | 'failed'
  note?: string
  /** req/s; for a paired row, the median of its rounds (as its latencies are). */
  requestsPerSecond?: number
  requestsTotal?: number
  latencyP50Ms?: number
  latencyP99Ms?: number
  latencyMaxMs?: number
  /** Requests that failed: connection errors, timeouts, non-2xx answers, answers other than the expected body. */
  errors?: { errors: number, timeouts: number, non2xx: number, mismatches: number }
  /** Highest server RSS sampled while autocannon ran. */
  serverRssPeak?: number | null
  /** A paired row's req/s in each round, in the order the rounds ran. */
  rounds?: number[]
  /**
   * A paired row's second call: its median req/s and each round's, measured alternately with this row's, and
   * `ratio`, the median of the rounds' ratios (this row's req/s over the second call's in the same round): the two
   * runs of one round are a few seconds apart, so the load of a shared machine weighs on both alike.
   */
  paired?: {
    method: EchoMethod
    /** The baseline row whose server answered the second call; absent when it was this row's own server. */
    baseline?: string
    requestsPerSecond: number
    rounds: number[]
    ratio: number
    /** The median over the rounds of this row's p99 latency over the second call's. */
    p99Ratio: number
  }
}

/** The methods a small-call row may call: both return their one param. */
export type EchoMethod = 'echo' | 'echoZod'

/** The call a small-call row sends to `method`: the same params and id for each, so each gets {@link ECHO_ANSWER}. */
export function echoCall (method: EchoMethod): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params: ['hello'], id: 1 })
}

/** The call the plain small-call rows send, and the answer every small-call row must get. */
export const ECHO_CALL = echoCall('echo')
export const ECHO_ANSWER = { jsonrpc: '2.0', id: 1, result: 'hello' }

/**
 * Runs one small-call row: starts the server in its own process, checks one call's answer, then runs autocannon in
 * another process for the configured duration after a short warm-up. A row with `pairedWith` runs autocannon
 * `settings.pairedRounds` times for each of its two calls, alternating (ABBA: A B, B A, A B, …) against the same
 * server, and reports the medians.
 */
export async function runSmallCallRow (spec: SmallCallRowSpec, settings: BenchSettings): Promise<SmallCallRowResult> {
  const base: SmallCallRowResult = { id: spec.id, mode: spec.mode, server: spec.server, body: spec.body, method: spec.method, status: 'failed' }
  const server = BenchChild.start(spec.serverEntry, spec.serverArgs)
  const baselineSpec = spec.pairedWith?.baseline
  const baseline = baselineSpec === undefined ? undefined : BenchChild.start(baselineSpec.serverEntry, baselineSpec.serverArgs)
  const sampler = new RssSampler(settings.sampleMs)
  try {
    const url = await urlOf(server)
    const otherUrl = baseline === undefined ? url : await urlOf(baseline)
    const headers = { 'content-type': spec.contentType }

    // One call of each first: a server that answers something else would make the rate meaningless.
    const ownCall: CallTarget = { url, payload: spec.payload, expectBody: '' }
    const secondCall: CallTarget | undefined = spec.pairedWith === undefined ? undefined : { url: otherUrl, payload: spec.pairedWith.payload, expectBody: '' }
    for (const target of secondCall === undefined ? [ownCall] : [ownCall, secondCall]) {
      const check = await fetch(target.url, { method: 'POST', headers, body: target.payload })
      target.expectBody = await check.text()
      if (check.status !== 200 || !isDeepStrictEqual(parseOrText(target.expectBody), ECHO_ANSWER)) {
        return { ...base, note: `the check call to ${target.url} got HTTP ${check.status}: ${target.expectBody.slice(0, 200)}` }
      }
    }

    sampler.watch(server.pid)
    const load = async (target: CallTarget): Promise<SmallCallsDone> => await runAutocannon({
      url: target.url,
      headers,
      body: target.payload,
      expectBody: target.expectBody,
      connections: settings.connections,
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds
    })
    const own: SmallCallsDone[] = []
    const other: SmallCallsDone[] = []
    if (secondCall === undefined) {
      own.push(await load(ownCall))
    } else {
      for (let round = 0; round < settings.pairedRounds; round++) {
        if (round % 2 === 0) {
          own.push(await load(ownCall))
          other.push(await load(secondCall))
        } else {
          other.push(await load(secondCall))
          own.push(await load(ownCall))
        }
      }
    }
    sampler.stop()

    const runs = [...own, ...other]
    const errors = {
      errors: sum(runs.map((r) => r.errors)),
      timeouts: sum(runs.map((r) => r.timeouts)),
      non2xx: sum(runs.map((r) => r.non2xx)),
      mismatches: sum(runs.map((r) => r.mismatches))
    }
    const failed = errors.errors + errors.timeouts + errors.non2xx + errors.mismatches
    return {
      ...base,
      status: failed === 0 ? 'ok' : 'failed',
      ...(failed === 0 ? {} : { note: `${failed} requests failed: ${JSON.stringify(errors)}` }),
      requestsPerSecond: median(own.map((r) => r.requestsPerSecond)),
      requestsTotal: sum(own.map((r) => r.requestsTotal)),
      latencyP50Ms: median(own.map((r) => r.latencyP50Ms)),
      latencyP99Ms: median(own.map((r) => r.latencyP99Ms)),
      latencyMaxMs: Math.max(...own.map((r) => r.latencyMaxMs)),
      errors,
      serverRssPeak: sampler.peak(server.pid),
      ...(spec.pairedWith === undefined
        ? {}
        : {
            rounds: own.map((r) => r.requestsPerSecond),
            paired: {
              method: spec.pairedWith.method,
              ...(baselineSpec === undefined ? {} : { baseline: baselineSpec.id }),
              requestsPerSecond: median(other.map((r) => r.requestsPerSecond)),
              rounds: other.map((r) => r.requestsPerSecond),
              ratio: median(own.map((r, i) => r.requestsPerSecond / (other[i]?.requestsPerSecond ?? Number.NaN))),
              p99Ratio: median(own.map((r, i) => r.latencyP99Ms / (other[i]?.latencyP99Ms ?? Number.NaN)))
            }
          })
    }
  } catch (err) {
    return { ...base, note: (err as Error).message }
  } finally {
    sampler.stop()
    await Promise.all([server.stop(), baseline?.stop()])
  }
}

/** Where one of a row's calls goes, and the answer it must get (the check call's). */
interface CallTarget { url: string, payload: string, expectBody: string }

/** The call URL of a bench server child, once it is listening. */
async function urlOf (server: BenchChild): Promise<string> {
  const ready = await server.next('ready', 30_000)
  if (ready.type !== 'ready') throw new Error(ready.reason)
  return `http://127.0.0.1:${ready.port}/rpc`
}

/** One autocannon run, in its own process. */
async function runAutocannon (job: SmallCallJob): Promise<SmallCallsDone> {
  const load = BenchChild.start('load/small-calls.ts', [JSON.stringify(job)])
  try {
    const done = await load.next('small-calls', (job.seconds + job.warmupSeconds) * 1000 + 60_000)
    if (done.type !== 'small-calls') throw new Error(done.reason)
    return done
  } finally {
    await load.stop()
  }
}

function sum (values: number[]): number {
  return values.reduce((total, value) => total + value, 0)
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

function parseOrText (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
