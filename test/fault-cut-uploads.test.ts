/**
 * Fault injection: 100 multipart uploads per mode (inline methods, and a worker pool with its default size), each cut
 * at a random byte offset of its body by killing the connection. The methods read their files in order or out of
 * order (so the server spools the earlier ones to disk) and report what every stream did. No stream of a file whose
 * bytes did not all arrive may end normally, none may hang, and a file that ends must have exactly its bytes;
 * afterwards the spool directory is empty, this process's thread, file descriptor and MessagePort counts are back
 * where they were, no unhandled rejection was raised, and the server still answers.
 *
 * The offsets come from a seeded PRNG: the seed is printed, and `FORMCALL_SEED=<seed>` replays a run.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { after, before, describe, it, type TestContext } from 'node:test'
import type { UploadedFile } from '@formcall/server'
import { sha256 } from './support/bytes.js'
import { multipartType, partHead } from './support/multipart.js'
import { PoolChannel } from './support/pool-channel.js'
import { startPoolServer, threadCount } from './support/pool-server.js'
import { openRequest, postJson } from './support/raw-http.js'
import { readInOrder, type FileSeen } from './support/read-in-order.js'
import { SeededRandom, testSeed } from './support/seeded-random.js'
import { startServer } from './support/start-server.js'
import { waitFor } from './support/wait.js'

const KiB = 1024
const MiB = 1024 * KiB
const UPLOADS = 100
/**
 * Uploads in flight at once: more than the default pool's upload lanes (8 workers less a quarter kept for calls
 * without files, on 2 cores), so some uploads are cut while they wait for a lane.
 */
const CONCURRENCY = 8
const MIN_FILE = 64 * KiB
const MAX_FILE = 4 * MiB
const SEED = testSeed(0x5eedc07)
/** Hang guard for things that happen asynchronously after a cut (a method's report, cleanup): not a performance expectation. */
const PATIENCE = 10_000
/**
 * File descriptors may exceed the baseline by this many once everything settled. Zero: a request's socket and its
 * spool files' descriptors are all closed by then, and nothing else in the process opens descriptors on its own.
 */
const FD_TOLERANCE = 0
/** Content every file is a slice of: random bytes, which no parser can mistake for framing. */
const CONTENT = randomBytes(MAX_FILE + 64 * KiB)

/** One upload of the run: what it sends and where the connection is killed. */
interface CutPlan {
  id: string
  /** How the cut offset was chosen. */
  kind: 'head' | 'near-a-file-end' | 'anywhere'
  sizes: number[]
  /** The order the method reads its files in (indexes). */
  order: number[]
  /** Offset in the file pool (CONTENT) of each file's content. */
  from: number[]
  /** Where in its range (see cutOffset()) the cut falls, as a fraction in [0, 1). */
  cutFraction: number
  /** For `near-a-file-end`: the file whose end the cut is near. */
  cutFile: number
  /** Wait for the method to start before killing the connection. */
  waitForStart: boolean
}

/** A planned upload framed for one mode's call. */
interface FramedUpload {
  body: Buffer
  /** Offset in the body where file i's content starts, and where it ends (exclusive). */
  contentStarts: number[]
  contentEnds: number[]
  /** Length of the delimiter that ends a part's content: `\r\n--<boundary>`. */
  delimiterLength: number
}

/** The method's call for one upload: the same in both modes. */
function callOf (plan: CutPlan, channel: string): unknown {
  return { method: 'cut.readInOrder', params: [plan.sizes.map((_, i) => ({ $file: `f${i}` })), plan.order, channel, plan.id], id: plan.id }
}

function frame (plan: CutPlan, channel: string): FramedUpload {
  const boundary = `formcall-cut-${plan.id}`
  const pieces: Buffer[] = []
  let length = 0
  const add = (piece: Buffer): void => {
    pieces.push(piece)
    length += piece.length
  }
  add(Buffer.from(partHead(boundary, { name: 'json' }) + JSON.stringify(callOf(plan, channel)) + '\r\n'))
  const contentStarts: number[] = []
  const contentEnds: number[] = []
  plan.sizes.forEach((size, i) => {
    add(Buffer.from(partHead(boundary, { name: `f${i}`, filename: `f${i}.bin`, type: 'application/octet-stream' })))
    contentStarts.push(length)
    const from = plan.from[i] as number
    add(CONTENT.subarray(from, from + size))
    contentEnds.push(length)
    add(Buffer.from('\r\n'))
  })
  add(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(pieces, length), contentStarts, contentEnds, delimiterLength: `\r\n--${boundary}`.length }
}

/**
 * The run's uploads. A cut lands anywhere in the files (most), right around the end of a file's content (the bytes
 * where a parser decides whether a part ended), or in the call's head (the method may never start).
 */
function planUploads (random: SeededRandom): CutPlan[] {
  return Array.from({ length: UPLOADS }, (_, n) => {
    const files = random.int(1, 3)
    const sizes = Array.from({ length: files }, () => random.int(MIN_FILE, MAX_FILE))
    const inOrder = files === 1 || random.chance(0.5)
    let order = sizes.map((_, i) => i)
    // Out of order: a file other than the first is read first, so the server must spool what comes before it.
    if (!inOrder) while (order[0] === 0) order = random.shuffle(order)
    const from = sizes.map((size) => random.int(0, CONTENT.length - size))
    const roll = random.next()
    const kind = roll < 0.1 ? 'head' : roll < 0.35 ? 'near-a-file-end' : 'anywhere'
    // The offset itself is resolved per mode (cutOffset()): the call's JSON differs in length between the modes.
    const plan: CutPlan = { id: `u${n}`, kind, sizes, order, from, cutFraction: random.next(), cutFile: random.int(0, files - 1), waitForStart: random.chance(0.5) }
    return plan
  })
}

/** Where this mode's framing of `plan` is cut: the same choice in both modes, whatever their call's length. */
function cutOffset (plan: CutPlan, framed: FramedUpload): number {
  const last = framed.body.length - 1
  const firstContent = framed.contentStarts[0] as number
  switch (plan.kind) {
    case 'head':
      // Anywhere from the first body byte up to the first file's first content byte (its headers complete, no content).
      return 1 + Math.floor(plan.cutFraction * firstContent)
    case 'near-a-file-end': {
      // From 3 bytes before a file's last byte to 2 bytes past the delimiter that ends it.
      const end = framed.contentEnds[plan.cutFile] as number
      const span = 3 + framed.delimiterLength + 2
      return Math.min(last, end - 3 + Math.floor(plan.cutFraction * (span + 1)))
    }
    case 'anywhere':
      return firstContent + Math.floor(plan.cutFraction * (last - firstContent + 1))
  }
}

/** What the test hears of its methods, whichever mode runs them. */
interface Observed {
  readonly started: ReadonlySet<string>
  readonly reports: ReadonlyMap<string, FileSeen[]>
}

/** One mode's server and the ears on its methods. */
interface Harness {
  readonly url: string
  /** The `channel` param the methods report on (unused inline). */
  readonly channel: string
  readonly observed: Observed
  tmpFiles (): Promise<string[]>
  close (): Promise<void>
}

async function inlineHarness (): Promise<Harness> {
  const started = new Set<string>()
  const reports = new Map<string, FileSeen[]>()
  const methods = {
    echo: (value: unknown) => value,
    cut: {
      readInOrder: async (files: UploadedFile[], order: number[], _channel: string, id: string) => {
        started.add(id)
        const seen = await readInOrder(files, order)
        reports.set(id, seen)
        return seen
      }
    }
  }
  const server = await startServer({ methods })
  return { url: server.url, channel: 'inline', observed: { started, reports }, tmpFiles: server.tmpFiles, close: server.close }
}

async function workerHarness (): Promise<Harness> {
  const channel = new PoolChannel()
  // Default pool size and queue: only the side channel and the spool directory are the test's.
  const server = await startPoolServer({ isolation: 'worker' })
  const observed: Observed = {
    get started () { return new Set(channel.heard.filter((e) => e.event === 'started').map((e) => e.id as string)) },
    get reports () {
      return new Map(channel.heard.filter((e) => e.event === 'report').map((e) => [e.id as string, e.files as FileSeen[]]))
    }
  }
  return {
    url: server.url,
    channel: channel.name,
    observed,
    tmpFiles: server.tmpFiles,
    close: async () => {
      channel.close()
      await server.close()
    }
  }
}

async function openFds (): Promise<number> {
  return (await readdir('/proc/self/fd')).length
}

/** This process's MessagePorts that keep its event loop alive (each pool call has a channel to its worker). */
function openPorts (): MessagePort[] {
  const handles = (process as unknown as { _getActiveHandles: () => object[] })._getActiveHandles()
  return handles.filter((handle): handle is MessagePort => handle.constructor.name === 'MessagePort')
}

/**
 * Closes the MessagePorts still open after the server closed. A port left open keeps this test file's process alive
 * for good, which would hang the whole suite instead of failing this file; the test has already failed on it.
 */
function closeLeakedPorts (): void {
  for (const port of openPorts()) port.close()
}

/** The counts the run must return to. */
interface Counts { threads: number, fds: number, ports: number }

async function counts (): Promise<Counts> {
  return { threads: await threadCount(), fds: await openFds(), ports: openPorts().length }
}

/**
 * The counts once nothing changes any more: the warm-up's connection and spool file take a moment to be closed after
 * its response. (The pause between samples is how quiet is told; nothing is asserted about time.)
 */
async function quietCounts (): Promise<Counts> {
  let last = await counts()
  await waitFor(async () => {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const now = await counts()
    const same = now.threads === last.threads && now.fds === last.fds && now.ports === last.ports
    last = now
    return same
  }, 'the thread, descriptor and port counts to be steady', PATIENCE)
  return last
}

/** Sends `framed` up to `cutAt`, optionally waits for the method to start, and kills the connection. */
async function cutUpload (harness: Harness, plan: CutPlan, framed: FramedUpload, cutAt: number): Promise<void> {
  const request = await openRequest(harness.url, {
    headers: { 'Content-Type': multipartType(`formcall-cut-${plan.id}`), 'Content-Length': String(framed.body.length) }
  })
  await request.write(framed.body.subarray(0, cutAt))
  // Only once the call and the first file's headers are sent can the method be counted on to start.
  if (plan.waitForStart && cutAt >= (framed.contentStarts[0] as number)) {
    await waitFor(() => harness.observed.started.has(plan.id), `method ${plan.id} to start`, PATIENCE)
  }
  request.destroy()
  await request.response.catch(() => {})
}

/** A complete out-of-order upload, so everything the server sets up on first use (spool files, fs threads) is up. */
async function warmUp (harness: Harness): Promise<void> {
  const plan: CutPlan = { id: 'warm-up', kind: 'anywhere', sizes: [256 * KiB, 256 * KiB, 256 * KiB], order: [2, 0, 1], from: [0, 1000, 2000], cutFraction: 0, cutFile: 0, waitForStart: false }
  const framed = frame(plan, harness.channel)
  const request = await openRequest(harness.url, {
    headers: { 'Content-Type': multipartType(`formcall-cut-${plan.id}`), 'Content-Length': String(framed.body.length) }
  })
  await request.write(framed.body)
  const response = await request.response
  assert.equal(response.status, 200, response.text)
  const seen = response.json().result as FileSeen[]
  assert.deepEqual(seen.map((file) => [file.index, file.ended, file.sha256]),
    plan.order.map((i) => [i, true, sha256(CONTENT.subarray(plan.from[i], (plan.from[i] as number) + (plan.sizes[i] as number)))]))
}

async function runCuts (t: TestContext, mode: 'inline' | 'worker', harness: Harness, before: Counts): Promise<void> {
  const random = new SeededRandom(SEED)
  const plans = planUploads(random)
  const baseline = await quietCounts()
  // An unhandled rejection is a crash in a server run with Node's defaults; the test runner would only note it.
  const unhandled: string[] = []
  const onUnhandled = (err: unknown): void => { unhandled.push(String((err as Error)?.stack ?? err)) }
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUnhandled)

  let maxSpoolFiles = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      maxSpoolFiles = Math.max(maxSpoolFiles, (await harness.tmpFiles()).length)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()

  const framings = new Map<string, { framed: FramedUpload, cutAt: number }>()
  let next = 0
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < plans.length) {
        const plan = plans[next++] as CutPlan
        const framed = frame(plan, harness.channel)
        const cutAt = cutOffset(plan, framed)
        assert.ok(cutAt > 0 && cutAt < framed.body.length)
        framings.set(plan.id, { framed, cutAt })
        await cutUpload(harness, plan, framed, cutAt)
      }
    }))

    // Settled: every method that started has reported, and the server let go of every spool file, thread and socket.
    const settled = async (): Promise<boolean> => {
      const { started, reports } = harness.observed
      return [...started].every((id) => reports.has(id)) &&
        (await harness.tmpFiles()).length === 0 &&
        await threadCount() === baseline.threads &&
        await openFds() <= baseline.fds + FD_TOLERANCE &&
        openPorts().length <= baseline.ports
    }
    await waitFor(settled, 'the server to settle after the cuts', PATIENCE).catch(() => {})
  } finally {
    sampling = false
    await sampler
    process.off('unhandledRejection', onUnhandled)
    process.off('uncaughtException', onUnhandled)
  }

  // Only the run's own calls count (the warm-up reported on the same ears).
  const planned = new Set(plans.map((plan) => plan.id))
  const started = new Set([...harness.observed.started].filter((id) => planned.has(id)))
  const reports = new Map([...harness.observed.reports].filter(([id]) => planned.has(id)))
  const after = { ...await counts(), tmpFiles: await harness.tmpFiles() }
  const figures = {
    mode,
    seed: SEED,
    uploads: plans.length,
    cutKinds: count(plans.map((plan) => plan.kind)),
    waitedForStart: plans.filter((plan) => plan.waitForStart).length,
    methodsStarted: started.size,
    methodsReported: reports.size,
    files: { read: 0, cut: 0, cutEndedNormally: 0, cutErrored: 0, completeEndedNormally: 0, completeErrored: 0, wrongBytesOrDigest: 0 },
    /** The stream errors methods saw, by code and message. */
    errors: {} as Record<string, number>,
    maxSpoolFilesSeen: maxSpoolFiles,
    threads: { beforeServer: before.threads, baseline: baseline.threads, after: after.threads },
    fds: { beforeServer: before.fds, baseline: baseline.fds, after: after.fds },
    messagePorts: { beforeServer: before.ports, baseline: baseline.ports, after: after.ports },
    unhandledErrors: unhandled.length,
    tmpFilesAfter: after.tmpFiles.length
  }
  const problems: string[] = []
  for (const [id, seen] of reports) {
    const plan = plans.find((p) => p.id === id) as CutPlan
    const { framed, cutAt } = framings.get(id) as { framed: FramedUpload, cutAt: number }
    for (const file of seen) {
      figures.files.read++
      const declared = plan.sizes[file.index] as number
      const isCut = cutAt < (framed.contentEnds[file.index] as number)
      if (file.error !== null) {
        const key = `${String(file.error.code)}: ${file.error.message}`
        figures.errors[key] = (figures.errors[key] ?? 0) + 1
      }
      if (isCut) {
        figures.files.cut++
        if (file.ended) {
          figures.files.cutEndedNormally++
          problems.push(`${mode} ${id}: file ${file.index} was cut at body byte ${cutAt} (${(framed.contentEnds[file.index] as number) - cutAt} of its ${declared} bytes never sent) but its stream ended normally after ${file.bytes} bytes`)
        } else figures.files.cutErrored++
      } else if (file.ended) figures.files.completeEndedNormally++
      else figures.files.completeErrored++
      const from = plan.from[file.index] as number
      const wrong = file.bytes > declared || (file.ended && (file.bytes !== declared || file.sha256 !== sha256(CONTENT.subarray(from, from + declared))))
      if (wrong) {
        figures.files.wrongBytesOrDigest++
        problems.push(`${mode} ${id}: file ${file.index} (${declared} bytes declared) delivered ${file.bytes} bytes, ended=${String(file.ended)}, sha256 ${file.sha256}`)
      }
    }
  }
  t.diagnostic(`figures ${JSON.stringify(figures)}`)

  assert.deepEqual(unhandled, [], 'the server raised no unhandled rejection or uncaught exception')
  assert.deepEqual(problems, [], 'no method saw a cut file end normally, and no stream delivered wrong bytes')
  const hanging = [...started].filter((id) => !reports.has(id)).map((id) => {
    const plan = plans.find((p) => p.id === id) as CutPlan
    const { framed, cutAt } = framings.get(id) as { framed: FramedUpload, cutAt: number }
    return `${id}: ${plan.sizes.length} files of ${plan.sizes.join(', ')} bytes read in order ${plan.order.join(',')}, content at ` +
      `${framed.contentStarts.map((start, i) => `${start}..${framed.contentEnds[i] as number}`).join(', ')} of ${framed.body.length}; cut at ${cutAt} (${plan.kind})` +
      `${plan.waitForStart ? ', after the method started' : ''}`
  })
  assert.deepEqual(hanging, [], 'every method that started reported (none hangs on a cut file)')
  assert.ok(figures.files.cut > 0 && reports.size > 0, 'the run cut files that methods were reading')
  assert.deepEqual(after.tmpFiles, [], 'no spool file is left')
  assert.equal(after.threads, baseline.threads, 'the thread count is back to its baseline')
  assert.ok(after.fds <= baseline.fds + FD_TOLERANCE, `open file descriptors: ${after.fds}, baseline ${baseline.fds}`)
  assert.ok(after.ports <= baseline.ports, `open MessagePorts: ${after.ports}, baseline ${baseline.ports} (a call's channel to its worker left open)`)
  const res = await postJson(harness.url, { method: 'echo', params: ['still serving'] })
  assert.equal(res.status, 200, res.text)
  assert.equal(res.json().result, 'still serving')
}

function count (values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const value of values) out[value] = (out[value] ?? 0) + 1
  return out
}

describe('uploads cut at random offsets', () => {
  describe('inline methods', () => {
    let harness: Harness
    let beforeServer: Counts
    before(async () => {
      beforeServer = await counts()
      harness = await inlineHarness()
      await warmUp(harness)
    })
    after(async () => await harness.close())

    it('no method sees a cut file end normally, and spool files, threads and descriptors return to their baseline', { timeout: 120_000 }, async (t) => {
      await runCuts(t, 'inline', harness, beforeServer)
    })
  })

  describe('methods in a default-sized worker pool', () => {
    let harness: Harness
    let beforeServer: Counts
    before(async () => {
      beforeServer = await counts()
      harness = await workerHarness()
      const workers = Math.max(8, 4 * availableParallelism())
      await waitFor(async () => await threadCount() >= beforeServer.threads + workers, `the ${workers} worker threads to be up`, PATIENCE)
      await warmUp(harness)
    })
    after(async () => {
      await harness.close()
      closeLeakedPorts()
    })

    it('no method sees a cut file end normally, and spool files, threads and descriptors return to their baseline', { timeout: 120_000 }, async (t) => {
      await runCuts(t, 'worker', harness, beforeServer)
    })
  })
})
