import { BenchChild } from '../support/child-process.js'
import { uploadFraming } from '../support/generated-upload.js'
import type { CpuTime, StatsReply, UploadJob } from '../support/messages.js'
import { RssSampler, settledRss } from '../support/rss-sampler.js'
import type { BenchSettings } from '../support/settings.js'

/** One upload row: which server, fed by which load client. */
export interface UploadRowSpec {
  /** Stable id, also the key in the JSON results: `upload/formcall/inline`, `clients/form-data/inline`, … */
  id: string
  /** `upload`: servers side by side, one load client. `clients`: load clients side by side, one server. */
  table: 'upload' | 'clients'
  /** The formcall server variant, or `-` for a bare server. */
  mode: string
  /** The server column. */
  server: string
  /** The client column. */
  client: string
  serverEntry: string
  serverArgs: string[]
  clientEntry: string
  /** Arguments after the job that the load client is started with (its variant). */
  clientArgs?: readonly string[]
  /** What the server's `bytes` answer counts: the file part, or (the ceiling) the whole body. */
  counts: 'part' | 'body'
  /** Set when the row cannot run here; it is reported as not measured with this reason. */
  unavailable?: string
}

/** One upload of a row. */
export interface UploadRun {
  ms: number
  mibPerSecond: number
  /** CPU time the load client spent on this upload. */
  clientCpu: CpuTime
  /** CPU time the server process spent from just before the load client started to just after it reported. */
  serverCpu: CpuTime
}

/** What one upload row measured. Sizes in bytes, times in ms; figures are per upload. */
export interface UploadRowResult {
  id: string
  table: 'upload' | 'clients'
  mode: string
  server: string
  client: string
  status: 'ok' | 'failed' | 'not measured'
  note?: string
  bytes: number
  /** Every upload of the row, in order (the server process is the same for all of them). */
  runs?: UploadRun[]
  /** The median upload's time. */
  ms?: number
  /** The median of the runs' MiB/s: the row's figure. */
  mibPerSecond?: number
  /** The slowest and fastest runs' MiB/s. */
  mibPerSecondRange?: [number, number]
  /** Server RSS after start-up, before the first upload. */
  serverRssIdle?: number | null
  /** Highest server RSS sampled during the uploads. */
  serverRssPeak?: number | null
  /** Highest load-client RSS sampled during the uploads (the client runs in its own process, one per upload). */
  clientRssPeak?: number | null
  /** The kernel's peak RSS of the server process (`maxRSS`, since it started), read after its last upload. */
  serverRssMax?: number | null
  /** CPU time the server process spent per upload (its total over the runs, divided by their number). */
  serverCpu?: CpuTime
  /** Server CPU seconds (user + system) per GiB of file: its total over the runs over their total GiB. */
  serverCpuSecondsPerGiB?: number
  /** The median run's load-client CPU time. */
  clientCpu?: CpuTime
}

/** The call every upload sends: `sink(file)`, the file being the part `f0`. */
export const SINK_CALL = JSON.stringify({ jsonrpc: '2.0', method: 'sink', params: [{ $file: 'f0' }], id: 1 })

const MiB = 1024 * 1024
const GiB = 1024 * MiB

/**
 * One upload row while it runs: its server process stays up for all its uploads, each upload comes from a new
 * load-client process, and both are RSS-sampled while the upload runs. The bench runs the rows in rounds (every
 * row once per round), so a slow minute on a shared machine touches all rows alike; each row's figure is its
 * median upload.
 *
 * @example
 * ```ts
 * const row = new UploadRow(spec, settings)
 * await row.start()
 * for (let i = 0; i < settings.repeat; i++) await row.uploadOnce()
 * const result = await row.finish()
 * ```
 */
export class UploadRow {
  readonly spec: UploadRowSpec
  readonly #settings: BenchSettings
  readonly #runs: UploadRun[] = []
  readonly #serverPeaks: Array<number | null> = []
  readonly #clientPeaks: Array<number | null> = []
  readonly #serverCpu: CpuTime = { userMs: 0, systemMs: 0 }
  #server: BenchChild | undefined
  #job: UploadJob | undefined
  #serverRssIdle: number | null = null
  #serverRssMax: number | null = null
  #failure: string | undefined

  constructor (spec: UploadRowSpec, settings: BenchSettings) {
    this.spec = spec
    this.#settings = settings
  }

  /** Starts the server and waits until it listens. */
  async start (): Promise<void> {
    if (this.spec.unavailable !== undefined) return
    try {
      const server = BenchChild.start(this.spec.serverEntry, this.spec.serverArgs)
      this.#server = server
      const ready = await server.next('ready', 30_000)
      if (ready.type !== 'ready') throw new Error(ready.reason)
      this.#serverRssIdle = await settledRss(server.pid)
      this.#job = {
        port: ready.port,
        path: '/rpc',
        bytes: this.#settings.uploadBytes,
        blockBytes: this.#settings.blockBytes,
        writeBytes: this.#settings.rawWriteBytes,
        highWaterMark: this.#settings.rawHighWaterMark,
        callJson: SINK_CALL
      }
    } catch (err) {
      this.#failure = `the server did not start: ${(err as Error).message}`
    }
  }

  /**
   * Runs one upload; after a failure the row runs no more. A warm-up upload is checked like any other but counts in
   * no figure: the first upload to a fresh server also pays for its code being compiled and its start-up heap being
   * collected (every row, the ceiling's too, took about twice its later CPU in the first round).
   */
  async uploadOnce ({ warmUp = false } = {}): Promise<void> {
    const server = this.#server
    const job = this.#job
    if (server === undefined || job === undefined || this.#failure !== undefined) return
    const settings = this.#settings
    const sampler = new RssSampler(settings.sampleMs)
    sampler.watch(server.pid)
    let load: BenchChild | undefined
    try {
      const before = await serverStats(server)
      load = BenchChild.start(this.spec.clientEntry, [JSON.stringify(job), ...(this.spec.clientArgs ?? [])])
      sampler.watch(load.pid)
      // A guard against a hung upload only: 60 s plus 5 MiB/s.
      const done = await load.next('upload', 60_000 + settings.uploadBytes / (5 * MiB) * 1000)
      sampler.stop()
      const after = await serverStats(server)
      if (done.type !== 'upload') throw new Error(done.reason)
      const expected = this.spec.counts === 'part' ? settings.uploadBytes : bodyBytes(settings.uploadBytes)
      if (done.error !== undefined) this.#failure = done.error
      else if (done.counted !== expected) this.#failure = `the server counted ${String(done.counted)} bytes, not ${expected}`
      if (warmUp) return
      const serverCpu = { userMs: after.cpu.userMs - before.cpu.userMs, systemMs: after.cpu.systemMs - before.cpu.systemMs }
      this.#serverCpu.userMs += serverCpu.userMs
      this.#serverCpu.systemMs += serverCpu.systemMs
      this.#serverRssMax = after.maxRssKiB * 1024
      this.#serverPeaks.push(sampler.peak(server.pid))
      this.#clientPeaks.push(sampler.peak(load.pid))
      this.#runs.push({ ms: done.ms, mibPerSecond: settings.uploadBytes / MiB / (done.ms / 1000), clientCpu: done.cpu, serverCpu })
    } catch (err) {
      this.#failure = (err as Error).message
    } finally {
      sampler.stop()
      await load?.stop()
    }
  }

  /** Stops the server and returns what the row measured. */
  async finish (): Promise<UploadRowResult> {
    await this.#server?.stop()
    const { spec } = this
    const base: UploadRowResult = {
      id: spec.id,
      table: spec.table,
      mode: spec.mode,
      server: spec.server,
      client: spec.client,
      status: 'not measured',
      bytes: this.#settings.uploadBytes
    }
    if (spec.unavailable !== undefined) return { ...base, note: spec.unavailable }
    const runs = this.#runs
    if (runs.length === 0) return { ...base, status: 'failed', note: this.#failure ?? 'no upload ran' }

    const byRate = [...runs].sort((a, b) => a.mibPerSecond - b.mibPerSecond)
    const median = byRate[Math.floor((byRate.length - 1) / 2)] as UploadRun
    return {
      ...base,
      status: this.#failure === undefined ? 'ok' : 'failed',
      ...(this.#failure === undefined ? {} : { note: this.#failure }),
      runs,
      ms: median.ms,
      mibPerSecond: median.mibPerSecond,
      mibPerSecondRange: [(byRate[0] as UploadRun).mibPerSecond, (byRate[byRate.length - 1] as UploadRun).mibPerSecond],
      serverRssIdle: this.#serverRssIdle,
      serverRssPeak: highest(this.#serverPeaks),
      serverRssMax: this.#serverRssMax,
      clientRssPeak: highest(this.#clientPeaks),
      serverCpu: { userMs: this.#serverCpu.userMs / runs.length, systemMs: this.#serverCpu.systemMs / runs.length },
      serverCpuSecondsPerGiB: (this.#serverCpu.userMs + this.#serverCpu.systemMs) / 1000 / (runs.length * this.#settings.uploadBytes / GiB),
      clientCpu: median.clientCpu
    }
  }
}

function highest (values: Array<number | null>): number | null {
  const known = values.filter((v): v is number => v !== null)
  return known.length === 0 ? null : Math.max(...known)
}

/** Size of the raw load client's whole body. */
function bodyBytes (fileBytes: number): number {
  const { head, tail } = uploadFraming(SINK_CALL)
  return head.length + fileBytes + tail.length
}

async function serverStats (server: BenchChild): Promise<StatsReply> {
  server.send({ type: 'stats' })
  const reply = await server.next('stats', 10_000)
  if (reply.type !== 'stats') throw new Error(reply.reason)
  return reply
}
