/**
 * Runs a seeded fuzz campaign against the server in child processes (one per isolation mode) and counts how each
 * case ended. A case's request goes over a real socket; the process exiting is a crash, no complete answer within
 * the timeout a hang. After every window of cases the server must still answer normal calls; when it died or stopped
 * answering, the window is replayed one case at a time on a fresh process to find the case that did it.
 */
import { corpus } from './corpus.js'
import { makeCase, type FuzzCase } from './generate.js'
import { OUTCOME_CLASSES, sendDraft, type CaseOutcome, type OutcomeClass } from './send-case.js'
import { FuzzServer, type FuzzMode } from './server-child.js'

export interface FuzzOptions {
  /** The run's seed: with a case's index it decides the whole case. */
  seed: number
  /** Cases in all, split between the modes (case i runs in mode i mod modes). */
  cases: number
  modes?: readonly FuzzMode[]
  /** Only these case indices (to replay findings). */
  only?: readonly number[]
  /** Requests in flight per mode. Default 16. */
  concurrency?: number
  /** Milliseconds before a request without a complete answer counts as hung. Default 5000. */
  timeoutMs?: number
  /** Cases per window: the server's health is checked after each. Default 4 × concurrency. */
  window?: number
  /** Crashes after which a mode stops (each crash costs a replay of its window). Default 10. */
  maxCrashes?: number
  /** Progress lines. */
  log?: (line: string) => void
}

/** A case worth a look: it crashed the server, hung, got a bad answer, or left the server unable to answer. */
export interface Finding {
  readonly kind: 'crashed' | 'hung' | 'problem' | 'unhealthy'
  readonly mode: FuzzMode
  /** The case's index in the run (-1 when no single case reproduced it). */
  readonly index: number
  readonly caseSeed: number
  readonly corpusEntry: string
  readonly mutators: readonly string[]
  readonly detail: string
  /** The end of the server's output, for a crash's stack. */
  readonly output?: string
}

export interface FuzzReport {
  readonly seed: number
  cases: number
  readonly counts: Record<FuzzMode, Record<OutcomeClass, number>>
  /** How often each error code was answered. */
  readonly codes: Record<string, number>
  readonly findings: Finding[]
  /** Findings of each kind, counted in full (the list keeps the first few problems only). */
  readonly totals: Record<Finding['kind'], number>
  /** Health checks passed (normal calls answered between windows). */
  healthChecks: number
  /** Server processes started per mode (1 means it never had to be restarted). */
  readonly starts: Record<FuzzMode, number>
  /** Spool files left in each server's tmpDir at the end. */
  readonly leftovers: Record<FuzzMode, number>
  /** Modes that stopped before their last case because they reached `maxCrashes`. */
  readonly stoppedEarly: FuzzMode[]
  durationMs: number
}

const KEPT_PROBLEMS = 40
/** Longer than the fuzz server's body and upload timeouts: time for the timers a case left behind to fire. */
const SETTLE_MS = 1500

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

const HEALTH = ['json call', 'multipart $file']

/**
 * Runs the campaign and returns its report; never throws for what the server does.
 *
 * @example
 * ```ts
 * const report = await runFuzz({ seed: 1, cases: 500 })
 * report.counts.inline.crashed // 0
 * ```
 */
export async function runFuzz (options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now()
  const modes = options.modes ?? ['inline', 'worker']
  const concurrency = options.concurrency ?? 16
  const timeoutMs = options.timeoutMs ?? 5000
  const windowSize = options.window ?? concurrency * 4
  const log = options.log ?? (() => {})
  const maxCrashes = options.maxCrashes ?? 10
  const emptyCounts = (): Record<OutcomeClass, number> => Object.fromEntries(OUTCOME_CLASSES.map((c) => [c, 0])) as Record<OutcomeClass, number>
  const report: FuzzReport = {
    seed: options.seed,
    cases: 0,
    counts: { inline: emptyCounts(), worker: emptyCounts() },
    codes: {},
    findings: [],
    totals: { crashed: 0, hung: 0, problem: 0, unhealthy: 0 },
    healthChecks: 0,
    starts: { inline: 0, worker: 0 },
    leftovers: { inline: 0, worker: 0 },
    stoppedEarly: [],
    durationMs: 0
  }
  const indices = options.only ?? Array.from({ length: options.cases }, (_, i) => i)

  const finding = (kind: Finding['kind'], mode: FuzzMode, fuzzCase: FuzzCase | undefined, detail: string, output?: string): void => {
    report.totals[kind]++
    if (kind === 'problem' && report.totals.problem > KEPT_PROBLEMS) return
    report.findings.push({
      kind,
      mode,
      index: fuzzCase?.index ?? -1,
      caseSeed: fuzzCase?.caseSeed ?? 0,
      corpusEntry: fuzzCase?.draft.seed ?? '',
      mutators: fuzzCase?.mutators ?? [],
      detail,
      ...(output === undefined ? {} : { output })
    })
  }

  const count = (mode: FuzzMode, fuzzCase: FuzzCase, outcome: CaseOutcome): void => {
    report.cases++
    report.counts[mode][outcome.class]++
    for (const code of outcome.codes) report.codes[code] = (report.codes[code] ?? 0) + 1
    for (const problem of outcome.problems) finding('problem', mode, fuzzCase, problem)
    if (outcome.class === 'hung') finding('hung', mode, fuzzCase, outcome.detail)
  }

  const runMode = async (mode: FuzzMode, mine: readonly number[]): Promise<void> => {
    const server = await FuzzServer.start(mode)
    try {
      for (let at = 0; at < mine.length; at += windowSize) {
        if (report.counts[mode].crashed >= maxCrashes) {
          report.stoppedEarly.push(mode)
          log(`${mode}: stopping after ${report.counts[mode].crashed} crashes`)
          break
        }
        const window = mine.slice(at, at + windowSize).map((index) => makeCase(options.seed, index))
        const outcomes = await pool(window, concurrency, async (fuzzCase) => await sendDraft(server.url, fuzzCase.draft, timeoutMs))
        // Timers a case left behind (body and upload timeouts) fire after its answer: give them time to, then check.
        await sleep(SETTLE_MS)
        if (await healthy(server, timeoutMs)) {
          report.healthChecks++
          window.forEach((fuzzCase, i) => count(mode, fuzzCase, outcomes[i] as CaseOutcome))
        } else {
          await replay(server, window)
        }
        if ((at / windowSize) % 20 === 19) log(`${mode}: ${Math.min(at + windowSize, mine.length)} of ${mine.length} cases`)
      }
      report.leftovers[mode] = (await server.leftovers()).length
    } finally {
      report.starts[mode] = server.starts
      await server.dispose()
    }
  }

  /**
   * The window broke the server: restart it and run the window's cases one by one, checking its health after each.
   * A case can break it a while after its answer (a timer it left behind fires), so when a check fails, each case
   * sent shortly before it is run once more alone, with time for such timers, to name the one that did it.
   */
  const replay = async (server: FuzzServer, window: FuzzCase[]): Promise<void> => {
    const mode = server.mode
    const died = !server.alive
    const output = server.outputTail()
    log(`${mode}: the server ${died ? `exited (${String(server.exit)})` : `stopped answering (${lastUnhealthy})`} during cases ${window[0]?.index}..${window.at(-1)?.index}; replaying them one by one`)
    await server.restart()
    if (!(await healthy(server, timeoutMs))) {
      throw new Error(`the health calls fail on a fresh ${mode} server (${lastUnhealthy}): the fuzzer itself is broken`)
    }
    let attributed = false
    const recent: Array<{ fuzzCase: FuzzCase, sentAt: number, class: OutcomeClass }> = []
    /** The server broke: run each case sent shortly before, alone, to find the one that breaks it. */
    const attribute = async (after: FuzzCase): Promise<void> => {
      attributed = true
      const brokeAt = Date.now()
      const suspects = recent.filter((entry) => brokeAt - entry.sentAt <= timeoutMs + 2 * SETTLE_MS).reverse()
      let culprit: { suspect: (typeof recent)[number], died: boolean, output: string } | undefined
      await server.restart()
      for (const suspect of suspects) {
        await sendDraft(server.url, makeCase(options.seed, suspect.fuzzCase.index).draft, timeoutMs)
        await sleep(SETTLE_MS)
        if (!(await healthy(server, timeoutMs))) {
          culprit = { suspect, died: !server.alive, output: server.outputTail() }
          break
        }
      }
      if (culprit === undefined) {
        finding('unhealthy', mode, after, `the server broke after this case in the replay, but none of the ${suspects.length} cases sent shortly before broke it alone`, server.outputTail())
      } else if (culprit.died) {
        // The case that crashed the server counts as crashed, not as the answer it got before the crash.
        report.counts[mode][culprit.suspect.class]--
        report.counts[mode].crashed++
        finding('crashed', mode, culprit.suspect.fuzzCase, 'the server process exited', culprit.output)
      } else {
        finding('unhealthy', mode, culprit.suspect.fuzzCase, 'the server stopped answering normal calls', culprit.output)
      }
      recent.length = 0
      await server.restart()
    }
    for (const original of window) {
      const fuzzCase = makeCase(options.seed, original.index)
      const sentAt = Date.now()
      const outcome = await sendDraft(server.url, fuzzCase.draft, timeoutMs)
      count(mode, fuzzCase, outcome)
      recent.push({ fuzzCase, sentAt, class: outcome.class })
      if (await healthy(server, timeoutMs)) report.healthChecks++
      else await attribute(fuzzCase)
    }
    // The last cases' timers fire after their answers.
    await sleep(SETTLE_MS)
    const last = window.at(-1)
    if (last !== undefined && !(await healthy(server, timeoutMs))) await attribute(last)
    if (!attributed) {
      if (died) report.counts[mode].crashed++
      finding(died ? 'crashed' : 'unhealthy', mode, undefined,
        `no single case of ${window.map((c) => c.index).join(',')} reproduced it alone`, output)
    }
  }

  const byMode = modes.map((mode, m) => runMode(mode, indices.filter((index) => index % modes.length === m)))
  await Promise.all(byMode)
  report.durationMs = Date.now() - started
  return report
}

/** Why the last health check failed, for the log. */
let lastUnhealthy = ''

/** Whether the server still answers normal calls (a JSON call and a multipart upload) with results. */
async function healthy (server: FuzzServer, timeoutMs: number): Promise<boolean> {
  if (!server.alive) return false
  for (const what of HEALTH) {
    const draft = corpus().find((entry) => entry.seed === what)
    if (draft === undefined) throw new Error(`no corpus entry "${what}"`)
    const outcome = await sendDraft(server.url, draft, timeoutMs)
    if (outcome.class !== 'result') {
      lastUnhealthy = `${what}: ${outcome.class} ${outcome.detail}`
      // A crash is often seen as a refused or dropped call a moment before the exit is.
      await server.exitedWithin(1000)
      return false
    }
  }
  return true
}

async function pool<T, R> (items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await run(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  return results
}

/** The report as a table of classes per mode, the codes seen, and the findings. */
export function formatReport (report: FuzzReport): string {
  const modes = Object.keys(report.counts) as FuzzMode[]
  const lines: string[] = []
  const width = 12
  lines.push(`formcall fuzz: seed ${report.seed}, ${report.cases} cases, ${(report.durationMs / 1000).toFixed(1)} s`)
  lines.push(['class'.padEnd(width), ...modes.map((m) => m.padStart(width)), 'total'.padStart(width)].join(''))
  for (const c of OUTCOME_CLASSES) {
    const values = modes.map((m) => report.counts[m][c])
    lines.push([c.padEnd(width), ...values.map((v) => String(v).padStart(width)), String(values.reduce((a, b) => a + b, 0)).padStart(width)].join(''))
  }
  const sums = modes.map((m) => Object.values(report.counts[m]).reduce((a, b) => a + b, 0))
  lines.push(['cases'.padEnd(width), ...sums.map((v) => String(v).padStart(width)), String(sums.reduce((a, b) => a + b, 0)).padStart(width)].join(''))
  lines.push(`error codes: ${Object.entries(report.codes).sort(([a], [b]) => Number(a) - Number(b)).map(([code, n]) => `${code}×${n}`).join(' ')}`)
  lines.push(`health checks passed: ${report.healthChecks}; server processes started: ${modes.map((m) => `${m} ${report.starts[m]}`).join(', ')}; spool files left: ${modes.map((m) => `${m} ${report.leftovers[m]}`).join(', ')}`)
  if (report.stoppedEarly.length > 0) lines.push(`STOPPED EARLY (too many crashes): ${report.stoppedEarly.join(', ')}`)
  lines.push(`findings: ${Object.entries(report.totals).map(([kind, n]) => `${kind} ${n}`).join(', ')}`)
  const printed = new Set<string>()
  for (const f of report.findings) {
    lines.push(`  ${f.kind} [${f.mode}] case ${f.index} (replay: --seed ${report.seed} --case ${f.index}) from "${f.corpusEntry}" + ${f.mutators.join(' + ') || 'no mutation'}: ${f.detail}`)
    // The server's output without its start-up line; each distinct one once.
    const output = (f.output ?? '').split('\n').filter((line) => !line.startsWith('{"url"')).join('\n').trim()
    if (output === '') continue
    if (printed.has(output)) lines.push('      (server output as above)')
    else lines.push(output.split('\n').map((line) => `      ${line}`).join('\n'))
    printed.add(output)
  }
  return lines.join('\n')
}
