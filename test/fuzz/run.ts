// `pnpm fuzz`: the full fuzz campaign. Options:
//   --seed <n>    the run's seed (default 20261201)
//   --cases <n>   cases in all, split between the inline and worker servers (default 10000)
//   --case <i>    replay one case (repeatable): prints its request and how it ended
//   --concurrency <n>  requests in flight per server (default 16)
//   --max-crashes <n>  crashes after which a server mode stops (default 10)
// FORMCALL_FUZZ_SERVER=<module> fuzzes another build of the server (see fuzz-server.ts).
// Exits 1 when any case crashed or hung the server (or left it unable to answer), or got an answer that breaks the
// protocol (an unregistered code, a status that does not match its code).
import { parseArgs } from 'node:util'
import { formatReport, runFuzz } from './campaign.js'
import { wire } from './draft.js'
import { makeCase } from './generate.js'

export const DEFAULT_SEED = 20261201

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    cases: { type: 'string', default: '10000' },
    case: { type: 'string', multiple: true },
    concurrency: { type: 'string', default: '16' },
    'max-crashes': { type: 'string', default: '10' }
  }
})
const seed = Number(values.seed)
const only = values.case?.map(Number)
if (!Number.isInteger(seed) || (only ?? []).some((i) => !Number.isInteger(i))) throw new Error('--seed and --case take integers')

if (only !== undefined) {
  for (const index of only) {
    const fuzzCase = makeCase(seed, index)
    const { head, body } = wire(makeCase(seed, index).draft)
    process.stdout.write(`case ${index} (case seed ${fuzzCase.caseSeed}): "${fuzzCase.draft.seed}" + ${fuzzCase.mutators.join(' + ') || 'no mutation'}\n`)
    process.stdout.write(`${JSON.stringify(head.toString('latin1'))}\nbody (${body.length} bytes): ${JSON.stringify(body.subarray(0, 2000).toString('latin1'))}\n`)
  }
}
const report = await runFuzz({
  seed,
  cases: Number(values.cases),
  ...(only === undefined ? {} : { only }),
  concurrency: Number(values.concurrency),
  maxCrashes: Number(values['max-crashes']),
  log: (line) => process.stderr.write(line + '\n')
})
process.stdout.write(formatReport(report) + '\n')
const failed = report.totals.crashed + report.totals.hung + report.totals.unhealthy + report.totals.problem
process.exitCode = failed > 0 ? 1 : 0
