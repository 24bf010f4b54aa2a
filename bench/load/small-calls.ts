/**
 * Child process: autocannon against one small-call server, with the job from argv[2]. Every response must equal
 * `expectBody`; autocannon counts the others as mismatches.
 */
import autocannon from 'autocannon'
import type { SmallCallJob, SmallCallsDone } from '../support/messages.js'

const job = JSON.parse(process.argv[2] ?? '{}') as SmallCallJob

const options: autocannon.Options & { warmup?: { connections: number, duration: number } } = {
  url: job.url,
  method: 'POST',
  headers: job.headers,
  body: job.body,
  expectBody: job.expectBody,
  connections: job.connections,
  pipelining: 1,
  duration: job.seconds
}
if (job.warmupSeconds > 0) options.warmup = { connections: job.connections, duration: job.warmupSeconds }

const result = await autocannon(options)
const done: SmallCallsDone = {
  type: 'small-calls',
  requestsPerSecond: result.requests.average,
  requestsTotal: result.requests.total,
  latencyP50Ms: result.latency.p50,
  latencyP99Ms: result.latency.p99,
  latencyMaxMs: result.latency.max,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  mismatches: result.mismatches,
  seconds: result.duration
}
process.send?.(done, () => process.exit(0))
