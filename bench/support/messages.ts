/**
 * The messages between the bench's orchestrator (`run.ts`) and its child processes, written down in one place so
 * both sides of the process boundary can be read together. Every child is started with an IPC channel; servers
 * answer `stats` requests until they get SIGTERM, load clients send one result and exit.
 */

/** CPU time a process used, in milliseconds (from `process.cpuUsage()`). */
export interface CpuTime {
  userMs: number
  systemMs: number
}

/** Server → orchestrator: listening on 127.0.0.1:`port`. */
export interface ServerReady {
  type: 'ready'
  port: number
}

/** Orchestrator → server: report your CPU time and peak RSS so far. */
export interface StatsRequest {
  type: 'stats'
}

/** Server → orchestrator: the answer to a {@link StatsRequest}. */
export interface StatsReply {
  type: 'stats'
  cpu: CpuTime
  /** `process.resourceUsage().maxRSS`: the kernel's own peak RSS of the process since it started, in KiB. */
  maxRssKiB: number
}

/** What an upload load client is told to do (passed as one JSON argument). */
export interface UploadJob {
  port: number
  path: string
  /** Bytes of the file part. */
  bytes: number
  /** Size of each generated block written into the request. */
  blockBytes: number
  /** The raw load client's bytes per write and its request's highWaterMark (the library clients ignore both). */
  writeBytes: number
  highWaterMark: number
  /** The call the `json` part holds, when the body needs one (formcall servers); bare parsers get the same. */
  callJson: string
}

/** Load client → orchestrator: the upload finished (or failed). */
export interface UploadDone {
  type: 'upload'
  /** Wall time from starting the request to the end of the response body. */
  ms: number
  /** HTTP status of the response (0 when there was none). */
  status: number
  /** Bytes of the file part the server says it drained, or `null` when its answer did not say. */
  counted: number | null
  /** CPU time of the load client during the upload. */
  cpu: CpuTime
  /** Why the upload failed, if it did. */
  error?: string
}

/** Load client → orchestrator: this client cannot run here (e.g. a package that is not written yet). */
export interface Unavailable {
  type: 'unavailable'
  reason: string
}

/** What the small-call load generator is told to do (passed as one JSON argument). */
export interface SmallCallJob {
  url: string
  headers: Record<string, string>
  body: string
  /** The exact response body every request must get; others count as mismatches. */
  expectBody: string
  connections: number
  seconds: number
  warmupSeconds: number
}

/** Load generator → orchestrator: autocannon's numbers for one row. */
export interface SmallCallsDone {
  type: 'small-calls'
  requestsPerSecond: number
  requestsTotal: number
  latencyP50Ms: number
  latencyP99Ms: number
  latencyMaxMs: number
  errors: number
  timeouts: number
  non2xx: number
  mismatches: number
  seconds: number
}

export type ChildMessage = ServerReady | StatsReply | UploadDone | Unavailable | SmallCallsDone

/** Reads the CPU time used since `start` (a previous `process.cpuUsage()`). */
export function cpuSince (start: NodeJS.CpuUsage): CpuTime {
  const used = process.cpuUsage(start)
  return { userMs: used.user / 1000, systemMs: used.system / 1000 }
}
