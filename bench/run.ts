/**
 * `pnpm bench`: measures formcall beside bare baselines and prints one report (see bench/README.md), also written
 * as JSON to bench/results/latest.json. It reports; slow numbers never fail it. It exits non-zero when a row failed
 * (a server that did not start, lost bytes, error answers), so a broken bench does not pass unnoticed; a row that
 * cannot run here ("not measured", e.g. a client package that is not ready) does not fail it.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describeMachine, loadAverageNow } from './support/machine.js'
import { readSettings, selected } from './support/settings.js'
import { clientNodeUnavailable } from './load/client-node-check.js'
import { UploadRow, type UploadRowResult } from './rows/upload-row.js'
import { runSmallCallRow, type SmallCallRowResult } from './rows/small-call-row.js'
import { runRssSweep, type RssSweepResult } from './rows/rss-sweep.js'
import { rssSweepRows, smallCallRows, uploadRows } from './plan.js'
import { PACKAGES_ENV, installPackages } from './support/packages.js'
import { modeLegend, renderReport, withGrowthDeltas, withRatios, type BenchResults } from './report.js'

const started = performance.now()
const settings = readSettings()
const date = new Date().toISOString()
const loadAtStart = loadAverageNow()
const progress = (text: string): void => { process.stderr.write(`bench: ${text}\n`) }

// Every row runs the packages as a user installs them (support/packages.ts); the children inherit the directory.
progress('packing and installing the packages …')
const packagesDir = await installPackages()
process.env[PACKAGES_ENV] = packagesDir

// Upload rows run in rounds, a group at a time: the upload table, then the clients table mode by mode. A group's
// servers are started first, then each round uploads once to each of them; its servers stop before the next group
// starts, so idle servers (and their worker threads) of other groups do not share the cores with a measurement.
const uploadPlan = uploadRows(await clientNodeUnavailable()).filter((s) => selected(settings, s.id))
const groups = new Map<string, UploadRow[]>()
for (const spec of uploadPlan) {
  const key = spec.table === 'upload' ? 'upload' : `clients, ${spec.mode}`
  groups.set(key, [...(groups.get(key) ?? []), new UploadRow(spec, settings)])
}
const upload: UploadRowResult[] = []
for (const [group, rows] of groups) {
  for (const row of rows) await row.start()
  for (let round = 1; round <= settings.warmUpRounds; round++) {
    progress(`uploads (${group}), warm-up round ${round} of ${settings.warmUpRounds}, not counted …`)
    for (const row of rows) await row.uploadOnce({ warmUp: true })
  }
  for (let round = 1; round <= settings.repeat; round++) {
    progress(`uploads (${group}), round ${round} of ${settings.repeat} (${settings.uploadMiB} MiB each) …`)
    for (const row of rows) await row.uploadOnce()
  }
  for (const row of rows) {
    const result = await row.finish()
    progress(`${result.id}: ${result.status === 'ok' ? `${result.mibPerSecond?.toFixed(0)} MiB/s` : `${result.status}: ${result.note ?? ''}`}`)
    upload.push(result)
  }
}

const smallCalls: SmallCallRowResult[] = []
for (const spec of smallCallRows().filter((s) => selected(settings, s.id))) {
  const other = spec.pairedWith?.baseline?.id ?? spec.pairedWith?.method
  const runs = spec.pairedWith === undefined ? '' : `${settings.pairedRounds} rounds of ${spec.method} and ${other ?? ''}, `
  progress(`${spec.id} (${runs}${settings.warmupSeconds} + ${settings.seconds} s) …`)
  const row = await runSmallCallRow(spec, settings)
  const paired = row.paired === undefined ? '' : ` (${row.paired.baseline ?? row.paired.method}: ${row.paired.requestsPerSecond.toFixed(0)} req/s)`
  progress(`${spec.id}: ${row.status === 'ok' ? `${row.requestsPerSecond?.toFixed(0)} req/s${paired}` : `${row.status}: ${row.note ?? ''}`}`)
  smallCalls.push(row)
}

// The RSS sweep (off unless BENCH_RSS_SWEEP names sizes) runs last: its big uploads do not touch the rows above.
const rssSweep: RssSweepResult[] = settings.rssSweepGiB.length === 0
  ? []
  : await runRssSweep(rssSweepRows().filter((s) => selected(settings, s.id)), settings, progress)

const results: BenchResults = {
  schema: 1,
  date,
  machine: describeMachine(loadAtStart),
  settings,
  modes: modeLegend(),
  ...withRatios({ upload, smallCalls }),
  rssSweep: withGrowthDeltas(rssSweep),
  runSeconds: (performance.now() - started) / 1000
}

const resultsDir = fileURLToPath(new URL('results/', import.meta.url))
await mkdir(resultsDir, { recursive: true })
await writeFile(`${resultsDir}latest.json`, JSON.stringify(results, null, 2) + '\n')
process.stdout.write(renderReport(results) + '\n')
process.stdout.write('(also written to bench/results/latest.json)\n')

await rm(packagesDir, { recursive: true, force: true })
if ([...upload, ...smallCalls, ...rssSweep].some((r) => r.status === 'failed')) process.exitCode = 1
