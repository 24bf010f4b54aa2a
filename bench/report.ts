import type { Machine } from './support/machine.js'
import type { BenchSettings } from './support/settings.js'
import type { UploadRowResult } from './rows/upload-row.js'
import type { SmallCallRowResult } from './rows/small-call-row.js'
import type { RssSweepResult } from './rows/rss-sweep.js'
import { FORMCALL_VARIANTS } from './servers/formcall-variants.js'

/** Ratios of a row to its baselines, `null` when either side was not measured. */
export type Ratios = Record<string, number | null>

/** Everything one run measured: what `bench/results/latest.json` holds. Bump `schema` when a field changes. */
export interface BenchResults {
  schema: 1
  date: string
  machine: Machine
  settings: BenchSettings
  modes: Array<{ mode: string, describe: string }>
  upload: Array<UploadRowResult & { ratios: Ratios }>
  clients: Array<UploadRowResult & { ratios: Ratios }>
  smallCalls: Array<SmallCallRowResult & { ratios: Ratios }>
  /** The RSS sweep (`BENCH_RSS_SWEEP`), empty when it did not run. */
  rssSweep: Array<RssSweepResult & { growthVsSmallest: number | null }>
  /** Seconds the whole run took. */
  runSeconds: number
}

/** The bare route handing each call to a piscina pool: the floor of the worker rows. */
const PISCINA_ROW = 'calls/fastify-piscina-json'

/** Adds each row's ratios to its baselines. */
export function withRatios (rows: { upload: UploadRowResult[], smallCalls: SmallCallRowResult[] }):
Pick<BenchResults, 'upload' | 'clients' | 'smallCalls'> {
  const rate = (id: string): number | undefined => {
    const row = rows.upload.find((r) => r.id === id)
    return row?.status === 'ok' ? row.mibPerSecond : undefined
  }
  const cpuPerGiB = (id: string): number | undefined => {
    const row = rows.upload.find((r) => r.id === id)
    return row?.status === 'ok' ? row.serverCpuSecondsPerGiB : undefined
  }
  const upload = rows.upload.filter((r) => r.table === 'upload').map((r) => {
    const own = r.status === 'ok' ? r.mibPerSecond : undefined
    const ratios: Ratios = {
      ofCeiling: ratio(own, rate('upload/ceiling')),
      // Server CPU per GiB over @fastify/busboy's: above 1 means this server spends more CPU per byte.
      cpuVsFastifyBusboy: ratio(r.status === 'ok' ? r.serverCpuSecondsPerGiB : undefined, cpuPerGiB('upload/fastify-busboy'))
    }
    if (r.mode !== '-') {
      ratios.vsInline = r.mode === 'inline' ? null : ratio(own, rate('upload/formcall/inline'))
      ratios.vsFastifyBusboy = ratio(own, rate('upload/fastify-busboy'))
      ratios.vsBusboy = ratio(own, rate('upload/busboy'))
    }
    return { ...r, ratios }
  })
  const clients = rows.upload.filter((r) => r.table === 'clients').map((r) => {
    const own = r.status === 'ok' ? r.mibPerSecond : undefined
    const ratios: Ratios = r.id.startsWith('clients/form-data/')
      ? {}
      : { vsFormData: ratio(own, rate(`clients/form-data/${r.mode}`)) }
    return { ...r, ratios }
  })
  const smallCalls = rows.smallCalls.map((r) => {
    const ok = r.status === 'ok'
    const measured = (id: string): SmallCallRowResult | undefined => rows.smallCalls.find((b) => b.id === id && b.status === 'ok')
    // The baseline is the bare route given the same body; the inline row is this row's id in mode inline.
    const bare = measured(`calls/bare-fastify-${r.body}`)
    const inline = measured(r.id.replace(/\/[^/]+$/, '/inline'))
    // A row calling another echo (echoZod) against the plain echo: the one it was measured alternately with in the
    // same server (the median of the rounds' ratios), or else the plain echo row of its mode and body.
    const plainEcho = measured(`calls/formcall-${r.body}/${r.mode}`)?.requestsPerSecond
    const againstBare = r.paired?.baseline === `calls/bare-fastify-${r.body}` ? r.paired : undefined
    const vsBare = {
      // Measured alternately with a bare server of its own when the row was paired with one; else the bare row's.
      requestsVsBare: againstBare === undefined
        ? ratio(ok ? r.requestsPerSecond : undefined, bare?.requestsPerSecond)
        : (ok && Number.isFinite(againstBare.ratio) ? againstBare.ratio : null),
      p99VsBare: againstBare === undefined
        ? ratio(ok ? r.latencyP99Ms : undefined, bare?.latencyP99Ms)
        : (ok && Number.isFinite(againstBare.p99Ratio) ? againstBare.p99Ratio : null)
    }
    const vsPlainEcho = r.paired?.method === 'echo' && r.paired.baseline === undefined
      ? (ok && Number.isFinite(r.paired.ratio) ? r.paired.ratio : null)
      : ratio(ok ? r.requestsPerSecond : undefined, plainEcho)
    // A bare row has ratios only when it was measured against bare Fastify too (the piscina floor).
    const ratios: Ratios = r.mode === '-'
      ? (againstBare === undefined ? {} : vsBare)
      : {
          requestsVsInline: r.mode === 'inline' ? null : ratio(ok ? r.requestsPerSecond : undefined, inline?.requestsPerSecond),
          ...vsBare,
          requestsVsPlainEcho: r.method === 'echo' ? null : vsPlainEcho
        }
    return { ...r, ratios }
  })
  // A worker JSON echo row against the piscina floor (which runs the same echo): the two ratios to bare Fastify,
  // each the median of its own rounds.
  const piscinaVsBare = smallCalls.find((r) => r.id === PISCINA_ROW)?.ratios.requestsVsBare ?? undefined
  for (const r of smallCalls) {
    if (r.mode === '-' || r.mode === 'inline' || r.body !== 'json' || r.method !== 'echo') continue
    r.ratios.requestsVsPiscina = ratio(r.ratios.requestsVsBare ?? undefined, piscinaVsBare)
  }
  return { upload, clients, smallCalls }
}

/** Adds to each sweep point its growth minus the growth of the same row at the sweep's smallest size. */
export function withGrowthDeltas (points: RssSweepResult[]): BenchResults['rssSweep'] {
  return points.map((p) => {
    const row = p.id.slice(0, p.id.lastIndexOf('/'))
    const smallest = points
      .filter((q) => q.id.startsWith(`${row}/`) && q.status === 'ok' && q.growth != null)
      .sort((a, b) => a.gib - b.gib)[0]
    const delta = p.status !== 'ok' || p.growth == null || smallest?.growth == null ? null : p.growth - smallest.growth
    return { ...p, growthVsSmallest: delta }
  })
}

function ratio (a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || b === 0 ? null : a / b
}

interface Column {
  header: string
  width: number
  align: 'left' | 'right'
}

/** Renders the results as the plain-text report: header, three tables with fixed columns, notes. */
export function renderReport (results: BenchResults): string {
  const { machine, settings } = results
  const out: string[] = []
  const notes: string[] = []
  const statusCell = (row: { id: string, status: string, note?: string }): string => {
    if (row.status === 'ok') return 'ok'
    notes.push(`[${notes.length + 1}] ${row.id} ${row.status}: ${row.note ?? 'no reason given'}`)
    return `${row.status} [${notes.length}]`
  }

  out.push(`formcall bench, ${results.date}`)
  out.push(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB RAM, Node ${machine.node}, ${machine.os}`)
  out.push(`Each server, each load client and autocannon run in their own process and share these ${machine.cores} cores. ` +
    `1-min load average: ${machine.loadAverage.start} before the run` +
    (machine.loadAverage.start >= machine.cores / 2 ? ' (other work was running: expect noisy numbers)' : '') +
    `, ${machine.loadAverage.end} at its end (this run included).`)
  out.push(`RSS: VmRSS of that process from /proc/<pid>/status, sampled every ${settings.sampleMs} ms; "peak" is the highest ` +
    'sample. Every child runs under the tsx loader, which is part of each RSS figure.')
  out.push(settings.appHeapMiB > 0
    ? `Application heap: every server holds ${settings.appHeapMiB} MiB of live records from start-up (BENCH_APP_HEAP_MB), ` +
      'so all of them run under the same V8 collection regime; it is part of each idle RSS, not of any growth.'
    : 'Application heap: none (BENCH_APP_HEAP_MB=0): each server runs with its own bare heap.')
  out.push('Modes: ' + results.modes.map((m) => `${m.mode} = ${m.describe}`).join('; ') + '; - = bare baseline, no formcall.')
  out.push('')

  out.push(`UPLOAD: one ${settings.uploadMiB} MiB file part, the same multipart bytes from the same raw node:http load client ` +
    `(${settings.blockBytes / 1024} KiB blocks in ${settings.rawWriteBytes / 2 ** 20} MiB writes, Content-Length), each server draining the part; ` +
    `median of ${settings.repeat} uploads per row${warmUpNote(settings.warmUpRounds)}; server CPU (user + system, process.cpuUsage() of the whole server ` +
    'process, all threads) per upload and per GiB, its ratio above 1 = more CPU per byte than @fastify/busboy')
  out.push(table([
    { header: 'id', width: 31, align: 'left' },
    { header: 'mode', width: 6, align: 'left' },
    { header: 'server', width: 28, align: 'left' },
    { header: 'MiB/s', width: 7, align: 'right' },
    { header: 'min-max', width: 11, align: 'right' },
    { header: 'seconds', width: 7, align: 'right' },
    { header: 'srv RSS idle>peak MiB', width: 21, align: 'right' },
    { header: 'cli RSS peak MiB', width: 16, align: 'right' },
    { header: 'srv CPU s', width: 9, align: 'right' },
    { header: 'srv CPU s/GiB', width: 13, align: 'right' },
    { header: 'CPU vs @fastify/busboy', width: 22, align: 'right' },
    { header: 'vs inline', width: 9, align: 'right' },
    { header: 'vs @fastify/busboy', width: 18, align: 'right' },
    { header: 'vs busboy', width: 9, align: 'right' },
    { header: 'vs ceiling', width: 10, align: 'right' },
    { header: 'status', width: 6, align: 'left' }
  ], results.upload.map((r) => [
    r.id, r.mode, r.server, fixed(r.mibPerSecond, 0), range(r.mibPerSecondRange), fixed(seconds(r.ms), 2),
    `${mib(r.serverRssIdle)} > ${mib(r.serverRssPeak)}`, mib(r.clientRssPeak), fixed(cpuSeconds(r.serverCpu), 2),
    fixed(r.serverCpuSecondsPerGiB, 2), fixed(r.ratios.cpuVsFastifyBusboy, 2),
    fixed(r.ratios.vsInline, 2), fixed(r.ratios.vsFastifyBusboy, 2), fixed(r.ratios.vsBusboy, 2), fixed(r.ratios.ofCeiling, 2), statusCell(r)
  ])))
  out.push('')

  out.push(`CLIENTS: the same ${settings.uploadMiB} MiB upload to the formcall server, sent by a client library (generated ` +
    'Readable as the file; the client-node-file and -resumable rows read the same bytes from a file on disk, and their ' +
    '-cut rows lose the connection once at 50 %, the time to recover included); median of ' +
    `${settings.repeat} uploads per row${warmUpNote(settings.warmUpRounds)}; server CPU per GiB as in the upload table`)
  out.push(table([
    { header: 'id', width: 38, align: 'left' },
    { header: 'mode', width: 6, align: 'left' },
    { header: 'client', width: 46, align: 'left' },
    { header: 'MiB/s', width: 7, align: 'right' },
    { header: 'min-max', width: 11, align: 'right' },
    { header: 'seconds', width: 7, align: 'right' },
    { header: 'srv RSS peak MiB', width: 16, align: 'right' },
    { header: 'cli RSS peak MiB', width: 16, align: 'right' },
    { header: 'cli CPU s', width: 9, align: 'right' },
    { header: 'srv CPU s/GiB', width: 13, align: 'right' },
    { header: 'vs form-data', width: 12, align: 'right' },
    { header: 'status', width: 6, align: 'left' }
  ], results.clients.map((r) => [
    r.id, r.mode, r.client, fixed(r.mibPerSecond, 0), range(r.mibPerSecondRange), fixed(seconds(r.ms), 2), mib(r.serverRssPeak),
    mib(r.clientRssPeak), fixed(cpuSeconds(r.clientCpu), 2), fixed(r.serverCpuSecondsPerGiB, 2), fixed(r.ratios.vsFormData, 2), statusCell(r)
  ])))
  out.push('')

  out.push(`SMALL CALLS: echo("hello"), autocannon ${settings.connections} connections, ${settings.seconds} s per row ` +
    `after ${settings.warmupSeconds} s warm-up, server and autocannon in separate processes. Each formcall row runs ` +
    `alternately with a second call in ${settings.pairedRounds} rounds of one run each (req/s and ms the medians): the ` +
    'echo rows with the bare Fastify route given the same body, in a server of its own started beside it ("vs bare" = ' +
    'the median of the rounds\' ratios); the -zod rows call echoZod, the same echo declared with defineMethod({ params: ' +
    '[z.string()] }), with the plain echo in the same server ("vs plain echo", the same way); the piscina row, bare ' +
    'Fastify handing each call to a piscina pool set as formcall\'s worker pool, with the bare route the same way, and ' +
    '"vs piscina" is the worker JSON echo row\'s "vs bare" over the piscina row\'s: the share of the thread-crossing floor it ' +
    'reaches. The bare Fastify rows run alone')
  out.push(table([
    { header: 'id', width: 31, align: 'left' },
    { header: 'mode', width: 6, align: 'left' },
    { header: 'server', width: 21, align: 'left' },
    { header: 'body', width: 9, align: 'left' },
    { header: 'req/s', width: 8, align: 'right' },
    { header: 'p50 ms', width: 6, align: 'right' },
    { header: 'p99 ms', width: 6, align: 'right' },
    { header: 'srv RSS peak MiB', width: 16, align: 'right' },
    { header: 'req/s vs inline', width: 15, align: 'right' },
    { header: 'req/s vs bare', width: 13, align: 'right' },
    { header: 'p99 vs bare', width: 11, align: 'right' },
    { header: 'vs plain echo', width: 13, align: 'right' },
    { header: 'vs piscina', width: 10, align: 'right' },
    { header: 'status', width: 6, align: 'left' }
  ], results.smallCalls.map((r) => [
    r.id, r.mode, r.server, r.body, fixed(r.requestsPerSecond, 0), fixed(r.latencyP50Ms, 0), fixed(r.latencyP99Ms, 0),
    mib(r.serverRssPeak), fixed(r.ratios.requestsVsInline, 2), fixed(r.ratios.requestsVsBare, 2), fixed(r.ratios.p99VsBare, 2),
    fixed(r.ratios.requestsVsPlainEcho, 2), fixed(r.ratios.requestsVsPiscina, 2), statusCell(r)
  ])))
  // Each round of a paired row, so the spread behind its ratio can be read.
  for (const r of results.smallCalls) {
    if (r.paired === undefined || r.rounds === undefined) continue
    const rounds = r.rounds.map((own, i) => `${own.toFixed(0)}/${r.paired?.rounds[i]?.toFixed(0) ?? '-'}`)
    const against = r.paired.baseline ?? `${r.paired.method} in the same server`
    out.push(`  ${r.id} rounds, req/s against ${against}: ${rounds.join(', ')}`)
  }
  out.push('')

  if (results.rssSweep.length === 0) {
    out.push('RSS SWEEP: not run (BENCH_RSS_SWEEP=1,8 runs it: the formcall and @fastify/busboy upload rows at 1 and 8 GiB, ' +
      'as rows rss/…)')
  } else {
    const sizes = [...new Set(results.rssSweep.map((p) => p.gib))].sort((a, b) => a - b)
    out.push(`RSS SWEEP: server RSS during one upload of ${sizes.join(', ')} GiB, each on a new server process, from the same ` +
      'raw load client; growth = sampled peak - RSS before; "vs smallest" = growth minus its growth at ' +
      `${sizes[0] ?? '-'} GiB (about 0 = flat in size)`)
    out.push(table([
      { header: 'id', width: 31, align: 'left' },
      { header: 'mode', width: 6, align: 'left' },
      { header: 'server', width: 28, align: 'left' },
      { header: 'GiB', width: 5, align: 'right' },
      { header: 'MiB/s', width: 7, align: 'right' },
      { header: 'seconds', width: 7, align: 'right' },
      { header: 'srv RSS before>peak MiB', width: 23, align: 'right' },
      { header: 'srv maxRSS MiB', width: 14, align: 'right' },
      { header: 'growth MiB', width: 10, align: 'right' },
      { header: 'vs smallest MiB', width: 15, align: 'right' },
      { header: 'status', width: 6, align: 'left' }
    ], results.rssSweep.map((p) => [
      p.id, p.mode, p.server, String(p.gib), fixed(p.mibPerSecond, 0), fixed(seconds(p.ms), 2),
      `${mib(p.serverRssBefore)} > ${mib(p.serverRssPeak)}`, mib(p.serverRssMax), mib(p.growth), signedMib(p.growthVsSmallest),
      statusCell(p)
    ])))
  }
  out.push('')

  out.push('Ratios are this row divided by the baseline from the same run: for MiB/s and req/s above 1 means faster than the ' +
    'baseline; for p99 and CPU per GiB above 1 means slower (autocannon measures latency in whole ms). "-" = not applicable or not measured.')
  if (notes.length > 0) out.push('', 'Notes:', ...notes)
  out.push(`Run took ${Math.round(results.runSeconds)} s.`)
  return out.join('\n')
}

function table (columns: Column[], rows: string[][]): string {
  const line = (cells: string[]): string => columns.map((c, i) => {
    const cell = cells[i] ?? ''
    return c.align === 'left' ? cell.padEnd(c.width) : cell.padStart(c.width)
  }).join('  ').trimEnd()
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n')
}

function fixed (value: number | null | undefined, digits: number): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits)
}

function range (values: [number, number] | undefined): string {
  return values === undefined ? '-' : `${values[0].toFixed(0)}-${values[1].toFixed(0)}`
}

function mib (bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '-' : String(Math.round(bytes / 2 ** 20))
}

function signedMib (bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '-'
  const value = Math.round(bytes / 2 ** 20)
  return value > 0 ? `+${value}` : String(value)
}

function seconds (ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000
}

/** How the warm-up rounds are described after "median of N uploads per row". */
function warmUpNote (rounds: number): string {
  return rounds === 0 ? ', no warm-up' : ` after ${rounds === 1 ? 'one warm-up upload' : `${rounds} warm-up uploads`} not counted`
}

function cpuSeconds (cpu: { userMs: number, systemMs: number } | undefined): number | undefined {
  return cpu === undefined ? undefined : (cpu.userMs + cpu.systemMs) / 1000
}

/** The modes column's legend. */
export function modeLegend (): Array<{ mode: string, describe: string }> {
  return FORMCALL_VARIANTS.map((v) => ({ mode: v.mode, describe: v.describe }))
}
