/**
 * The main-thread end of a worker call (CallBridge) over a real MessageChannel, with the worker played by test code
 * speaking the messages of messages.ts; where a worker receives bytes it uses the worker's own CreditReceiver.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { ErrorCode, RpcError } from '@formcall/spec'
import { UploadedFile, UploadedFiles, type FileInfo } from '../src/bind/uploaded-file.js'
import { CreditReceiver } from '../src/dispatch/worker/credit-flow.js'
import { ACK_EVERY, CREDIT_WINDOW, type MainToWorker, type WorkerToMain } from '../src/dispatch/worker/messages.js'
import { Download } from '../src/respond/download.js'
import { SerializedResult } from '../src/respond/envelope.js'
import { BIG, Rig, contentOf, filePart, fingerprint, outcomeOf, type Outcome } from './support/upload-rig.js'
import { HeldPart, closeBridges, openBridge, type WorkerPeer } from './support/worker-peer.js'

/** Guards against a hang stalling the run; no test comes near it. */
const HANG = { timeout: 20_000 }
afterEach(closeBridges)
const INFO_A: FileInfo = { field: 'a', filename: 'a.txt', type: 'text/plain' }
const INFO_B: FileInfo = { field: 'b', filename: 'b.bin', type: 'application/octet-stream' }

/** A failed outcome as its wire form's code and whatever else a row names; a result as its JSON text. */
function seen (outcome: Outcome, keys: readonly string[] = []): unknown {
  if (outcome.ok) return outcome.value instanceof SerializedResult ? { json: outcome.value.json } : { value: outcome.value }
  assert.ok(outcome.error instanceof RpcError, `the outcome is an RpcError (${String(outcome.error)})`)
  const wire = outcome.error.toJSON() as unknown as Record<string, unknown>
  return { error: Object.fromEntries(['code', ...keys].map((key) => [key, wire[key]])) }
}

/** `count` chunks of distinct bytes, each in its own buffer, as a worker posts them. */
function chunks (count: number, size = 1000): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => new Uint8Array(contentOf(`chunk${i}`, size)))
}

/** Reads a file over the port as the worker does: `open`, then its messages into a CreditReceiver acking back. */
async function readOverPort (worker: WorkerPeer, file: number): Promise<{ info: FileInfo | undefined, bytes: Outcome }> {
  const receiver = new CreditReceiver((n) => worker.post({ t: 'ack', file, n }))
  const reading = outcomeOf((async () => {
    const got: Buffer[] = []
    for await (const chunk of receiver) got.push(chunk as Buffer)
    return fingerprint(Buffer.concat(got))
  })())
  worker.post({ t: 'open', file })
  let info: FileInfo | undefined
  for (let done = false; !done;) {
    const message = await worker.take()
    if (!('file' in message) || message.file !== file) continue
    switch (message.t) {
      case 'info': info = message.info; break
      case 'data': receiver.receive(message.chunk); break
      case 'end': receiver.finish(); done = true; break
      case 'fail': receiver.destroy(RpcError.fromJSON(message.error)); done = true; break
    }
  }
  return { info, bytes: await reading }
}

describe('the outcome of a call', () => {
  type Step = WorkerToMain | 'port closed' | 'task ended' | { pool: RpcError }
  const start: WorkerToMain = { t: 'start', threadId: 7 }
  const rows: Array<{ what: string, steps: Step[], expect: unknown, keys?: string[] }> = [
    {
      what: 'a result settles it with the method\'s JSON text',
      steps: [start, { t: 'result', json: '{"sum":3}' }],
      expect: { json: '{"sum":3}' }
    },
    {
      what: 'an error settles it with that RpcError, code, message and data kept',
      steps: [start, { t: 'error', error: { code: 4001, message: 'no such order', data: { order: 9 } }, fromMethod: true }],
      expect: { error: { code: 4001, message: 'no such order', data: { order: 9 } } },
      keys: ['message', 'data']
    },
    {
      what: 'the first outcome counts: a result after an error is ignored',
      steps: [start, { t: 'error', error: { code: ErrorCode.INVALID_PARAMS, message: 'bad' }, fromMethod: false }, { t: 'result', json: '1' }],
      expect: { error: { code: ErrorCode.INVALID_PARAMS } }
    },
    {
      what: 'a result, then the worker closes the port and the task ends: the result stands',
      steps: [start, { t: 'result', json: 'null' }, 'port closed', 'task ended'],
      expect: { json: 'null' }
    },
    {
      what: 'the port closed without an outcome, then the task ended: WORKER_CRASHED',
      steps: [start, 'port closed', 'task ended'],
      expect: { error: { code: ErrorCode.WORKER_CRASHED } }
    },
    {
      what: 'the task ended, then the port closed without an outcome: WORKER_CRASHED',
      steps: [start, 'task ended', 'port closed'],
      expect: { error: { code: ErrorCode.WORKER_CRASHED } }
    },
    {
      what: 'a worker that never started, gone: WORKER_CRASHED',
      steps: ['task ended', 'port closed'],
      expect: { error: { code: ErrorCode.WORKER_CRASHED } }
    },
    {
      what: 'the pool\'s own report (a timeout) is the outcome, not the generic crash',
      steps: [start, { pool: new RpcError(ErrorCode.CALL_TIMEOUT, 'too slow') }, 'port closed', 'task ended'],
      expect: { error: { code: ErrorCode.CALL_TIMEOUT, message: 'too slow' } },
      keys: ['message']
    },
    {
      what: 'the pool\'s report after the port closed, before the task ended: still the outcome',
      steps: [start, 'port closed', { pool: new RpcError(ErrorCode.WORKER_CRASHED, 'out of memory (maxHeapMb)') }, 'task ended'],
      expect: { error: { code: ErrorCode.WORKER_CRASHED, message: 'out of memory (maxHeapMb)' } },
      keys: ['message']
    }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => {
      const { bridge, worker, closed } = openBridge()
      for (const step of row.steps) {
        if (step === 'port closed') {
          worker.port.close()
          await closed
        } else if (step === 'task ended') {
          bridge.taskEnded()
        } else if ('pool' in step) {
          bridge.fail(step.pool)
        } else {
          worker.post(step)
        }
      }
      assert.deepEqual(seen(await outcomeOf(bridge.outcome), row.keys), row.expect)
      if (row.steps.includes(start)) {
        await bridge.started
        assert.equal(bridge.threadId, 7)
      }
    })
  }

  it('a closed port alone is no outcome: the pool\'s report of why may still come', HANG, async () => {
    const { bridge, worker, closed } = openBridge()
    let settled = false
    void bridge.outcome.then(() => { settled = true }, () => { settled = true })
    worker.port.close()
    await closed
    await nextTurn()
    assert.equal(settled, false)
    bridge.taskEnded()
    assert.deepEqual(seen(await outcomeOf(bridge.outcome)), { error: { code: ErrorCode.WORKER_CRASHED } })
  })

  it('a method\'s log lines reach the request\'s logger, with or without an object', HANG, async () => {
    const { bridge, worker, logs } = openBridge()
    worker.post({ t: 'log', level: 'warn', msg: 'slow disk' })
    worker.post({ t: 'log', level: 'error', msg: 'failed', obj: { order: 9 } })
    worker.post({ t: 'result', json: '1' })
    await bridge.outcome
    assert.deepEqual(logs, [['warn', 'slow disk'], ['error', { order: 9 }, 'failed']])
  })

  it('an abort is relayed to the worker with its reason', HANG, async () => {
    const { bridge, worker } = openBridge()
    const reason = new RpcError(ErrorCode.ABORTED, 'the client closed the connection before the call finished')
    bridge.abort(reason)
    assert.deepEqual(await worker.take(), { t: 'abort', error: reason.toJSON() })
  })
})

describe('a download from the worker', () => {
  const body = chunks(2 * ACK_EVERY + 3)
  const whole = fingerprint(Buffer.concat(body))
  const rows: Array<{ what: string, after: Array<WorkerToMain | 'port closed' | 'task ended'>, expect: unknown }> = [
    { what: 'its bytes are read in order and it ends', after: [{ t: 'dl-end' }], expect: { ok: true, value: whole } },
    {
      what: 'the worker\'s failure mid-way fails the stream with its error, never ends it',
      after: [{ t: 'dl-error', error: { code: ErrorCode.INTERNAL_ERROR, message: 'disk gone' } }],
      expect: { ok: false, code: ErrorCode.INTERNAL_ERROR }
    },
    { what: 'the worker gone mid-way (port closed, task ended) fails the stream with WORKER_CRASHED', after: ['port closed', 'task ended'], expect: { ok: false, code: ErrorCode.WORKER_CRASHED } },
    { what: 'the worker gone after the end changes nothing', after: [{ t: 'dl-end' }, 'port closed', 'task ended'], expect: { ok: true, value: whole } }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => {
      const { bridge, worker, closed } = openBridge()
      worker.post({ t: 'start', threadId: 1 })
      worker.post({ t: 'download', filename: 'report.csv', type: 'text/csv', size: 19_000 })
      const download = await bridge.outcome
      assert.ok(download instanceof Download)
      assert.deepEqual([download.filename, download.type, download.size], ['report.csv', 'text/csv', 19_000])
      const stream = await download.open()
      for (const chunk of chunks(body.length)) worker.post({ t: 'dl-data', chunk }, [chunk.buffer as ArrayBuffer])
      for (const step of row.after) {
        if (step === 'port closed') {
          worker.port.close()
          await closed
        } else if (step === 'task ended') bridge.taskEnded()
        else worker.post(step)
      }
      const read = await outcomeOf((async () => {
        const got: Buffer[] = []
        for await (const chunk of stream) got.push(chunk as Buffer)
        return fingerprint(Buffer.concat(got))
      })())
      assert.deepEqual(read.ok ? read : { ok: false, code: (read.error as RpcError).code }, row.expect)
      if (!row.after.includes('port closed')) {
        // Every chunk was handed on: acked in batches of ACK_EVERY.
        assert.deepEqual(await worker.takeMany(2), [{ t: 'dl-ack', n: ACK_EVERY }, { t: 'dl-ack', n: ACK_EVERY }])
      }
    })
  }

  it('a download the client stopped reading tells the worker to stop', HANG, async () => {
    const { bridge, worker } = openBridge()
    worker.post({ t: 'download', filename: undefined, type: 'application/octet-stream', size: undefined })
    const download = await bridge.outcome as Download
    assert.deepEqual([download.filename, download.size], [undefined, undefined])
    const stream = await download.open()
    const [chunk] = chunks(1) as [Uint8Array]
    worker.post({ t: 'dl-data', chunk }, [chunk.buffer as ArrayBuffer])
    for await (const _ of stream) break
    assert.deepEqual(await worker.take(), { t: 'dl-cancel' })
  })
})

describe('file arguments', () => {
  it('encodeArgs takes each file object out, records where it was, and passes its headers if they arrived', HANG, async () => {
    const { bridge, worker } = openBridge()
    const arrived = new HeldPart()
    arrived.arrive(INFO_A)
    const later = new HeldPart()
    const list = new UploadedFiles('docs', { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) })
    const args = bridge.encodeArgs([{ title: 'x', file: new UploadedFile('a', arrived), deep: [[new UploadedFile('b', later)]] }, list, '__file__', null])
    assert.deepEqual(args, [{ title: 'x', file: null, deep: [[null]] }, null, '__file__', null])
    assert.deepEqual(bridge.filePlaces, [
      { path: [0, 'file'], kind: 'file', index: 0 },
      { path: [0, 'deep', 0, 0], kind: 'file', index: 1 },
      { path: [1], kind: 'files', index: 0, field: 'docs' }
    ])
    assert.deepEqual(bridge.fileFields, ['a', 'b'])
    assert.deepEqual(bridge.fileInfos, [INFO_A, null])
    assert.equal(bridge.hasFiles, true)
    // A part arriving later has its headers sent at once, as an inline method would see them appear.
    later.arrive(INFO_B)
    assert.deepEqual(await worker.takeMany(2), [{ t: 'info', file: 0, info: INFO_A }, { t: 'info', file: 1, info: INFO_B }])
  })

  it('args without files have none', () => {
    const { bridge } = openBridge()
    assert.deepEqual(bridge.encodeArgs([{ a: [1, 'two'] }, null]), [{ a: [1, 'two'] }, null])
    assert.deepEqual([bridge.filePlaces, bridge.fileFields, bridge.hasFiles], [[], [], false])
  })

  const missing = new RpcError(ErrorCode.MISSING_FILE, 'the call refers to part "a" but the body has no part of that name', { part: 'a' })
  const rows: Array<{
    what: string
    request: 'ready' | 'open'
    /** What becomes of the part once the bridge asked for it. */
    part: (part: HeldPart) => Promise<void> | void
    expect: MainToWorker[]
    opened: number
  }> = [
    // A part arriving after the args were encoded has its headers sent at once (the arrival hook), and again in answer.
    { what: 'ready, the part arriving later: its headers once it arrives', request: 'ready', part: (p) => p.arrive(INFO_A), expect: [{ t: 'info', file: 0, info: INFO_A }, { t: 'info', file: 0, info: INFO_A }], opened: 0 },
    { what: 'ready, the part never coming: fail with its error', request: 'ready', part: (p) => p.never(missing), expect: [{ t: 'fail', file: 0, error: missing.toJSON() }], opened: 0 },
    { what: 'open, the part never coming: fail, and no stream is opened', request: 'open', part: (p) => p.never(missing), expect: [{ t: 'fail', file: 0, error: missing.toJSON() }], opened: 0 },
    {
      what: 'open, the part failing mid-way with an RpcError: its bytes so far, then fail with that error',
      request: 'open',
      part: async (p) => {
        p.arrive(INFO_A)
        await p.whenOpened
        p.stream.push(Buffer.from('abc'))
        p.stream.destroy(new RpcError(ErrorCode.LIMIT_EXCEEDED, 'too big', { limit: 'fileSize' }))
      },
      expect: [{ t: 'info', file: 0, info: INFO_A }, { t: 'info', file: 0, info: INFO_A }, { t: 'data', file: 0, chunk: new Uint8Array(Buffer.from('abc')) },
        { t: 'fail', file: 0, error: { code: ErrorCode.LIMIT_EXCEEDED, message: 'too big', data: { limit: 'fileSize' } } }],
      opened: 1
    },
    {
      what: 'open, the part failing with a plain error: fail as INVALID_REQUEST, saying the upload failed',
      request: 'open',
      part: async (p) => {
        p.arrive(INFO_A)
        await p.whenOpened
        p.stream.destroy(new Error('socket hang up'))
      },
      expect: [{ t: 'info', file: 0, info: INFO_A }, { t: 'info', file: 0, info: INFO_A }, { t: 'fail', file: 0, error: { code: ErrorCode.INVALID_REQUEST, message: 'the upload failed: socket hang up' } }],
      opened: 1
    }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => {
      const { bridge, worker } = openBridge()
      const part = new HeldPart()
      bridge.encodeArgs([new UploadedFile('a', part)])
      worker.post({ t: row.request, file: 0 })
      await part.asked
      await row.part(part)
      const got = await worker.takeMany(row.expect.length)
      assert.deepEqual(got.map((m) => m.t === 'data' ? { ...m, chunk: new Uint8Array(m.chunk) } : m), row.expect)
      assert.equal(part.opened, row.opened)
    })
  }

  it('a request for a file the call does not have fails that file, not the process', HANG, async () => {
    const { worker } = openBridge()
    worker.post({ t: 'open', file: 3 })
    worker.post({ t: 'ready', file: 4 })
    const [open, ready] = await worker.takeMany(2) as Array<MainToWorker & { t: 'fail' }>
    assert.deepEqual([open?.t, open?.file, open?.error.code, ready?.t, ready?.file], ['fail', 3, ErrorCode.INVALID_REQUEST, 'fail', 4])
  })
})

describe('file bytes under credit flow control', () => {
  const total = 2 * CREDIT_WINDOW + ACK_EVERY + 5
  /** Opens a part holding `total` chunks; resolves once its headers came back. */
  async function opened (): Promise<{ part: HeldPart, sent: Uint8Array[], bridge: ReturnType<typeof openBridge>['bridge'], worker: WorkerPeer, closed: Promise<unknown> }> {
    const { bridge, worker, closed } = openBridge()
    const part = new HeldPart()
    part.arrive(INFO_A)
    const sent = chunks(total)
    for (const chunk of sent) part.stream.push(Buffer.from(chunk))
    bridge.encodeArgs([new UploadedFile('a', part)])
    worker.post({ t: 'open', file: 0 })
    // The headers, sent at encoding (already arrived), then in answer to `open`.
    assert.deepEqual(await worker.takeMany(2), [{ t: 'info', file: 0, info: INFO_A }, { t: 'info', file: 0, info: INFO_A }])
    return { part, sent, bridge, worker, closed }
  }
  const bytesOf = (messages: MainToWorker[]): Uint8Array[] => messages.map((m) => {
    assert.equal(m.t, 'data')
    return (m as { chunk: Uint8Array }).chunk
  })

  it('at most CREDIT_WINDOW chunks are unacknowledged; each ack lets that many more go, in order, each in a buffer of its own', HANG, async () => {
    const { part, sent, worker } = await opened()
    const got: Uint8Array[] = []
    const window = async (count: number, left: number): Promise<void> => {
      got.push(...bytesOf(await worker.takeMany(count)))
      // The source is paused with the rest still in it: nothing more is sent until an ack.
      assert.equal(part.stream.isPaused(), true)
      assert.equal(part.stream.readableLength, left * 1000)
    }
    await window(CREDIT_WINDOW, total - CREDIT_WINDOW)
    worker.post({ t: 'ack', file: 0, n: ACK_EVERY })
    await window(ACK_EVERY, total - CREDIT_WINDOW - ACK_EVERY)
    worker.post({ t: 'ack', file: 0, n: CREDIT_WINDOW })
    await window(CREDIT_WINDOW, total - 2 * CREDIT_WINDOW - ACK_EVERY)
    worker.post({ t: 'ack', file: 0, n: CREDIT_WINDOW })
    part.stream.push(null)
    got.push(...bytesOf(await worker.takeMany(5)))
    assert.deepEqual(await worker.take(), { t: 'end', file: 0 })
    assert.deepEqual(got.map((chunk) => Buffer.from(chunk)), sent.map((chunk) => Buffer.from(chunk)))
    // A copy in its own ArrayBuffer: posting a view of a pooled buffer would clone the whole pool.
    for (const chunk of got) assert.equal(chunk.buffer.byteLength, chunk.byteLength)
  })

  it('a call stopped mid-stream (timeout, shutdown) stops the file\'s source and fails the outcome', HANG, async () => {
    const { part, bridge, worker } = await opened()
    await worker.takeMany(CREDIT_WINDOW)
    bridge.fail(new RpcError(ErrorCode.CALL_TIMEOUT, 'too slow'))
    assert.equal(part.stream.destroyed, true)
    assert.deepEqual(seen(await outcomeOf(bridge.outcome)), { error: { code: ErrorCode.CALL_TIMEOUT } })
  })

  it('the port closed mid-stream: the source waits for the task\'s end, then stops and the call fails', HANG, async () => {
    const { part, bridge, worker, closed } = await opened()
    await worker.takeMany(CREDIT_WINDOW)
    worker.port.close()
    await closed
    // Acks can no longer come: the source stays paused, not read into memory.
    assert.deepEqual([part.stream.isPaused(), part.stream.destroyed], [true, false])
    bridge.taskEnded()
    assert.equal(part.stream.destroyed, true)
    assert.deepEqual(seen(await outcomeOf(bridge.outcome)), { error: { code: ErrorCode.WORKER_CRASHED } })
  })
})

describe('a worker reading the files of a real upload', () => {
  it('files read out of order over the port arrive byte-exact, the earlier one spooled', HANG, async () => {
    const rig = await Rig.open()
    let left: string[]
    try {
      const A = filePart('a', BIG, { filename: 'a.bin' })
      const B = filePart('b', BIG, { filename: 'b.bin' })
      const args = rig.bindArgs([{ $file: 'a' }, { $file: 'b' }])
      const { bridge, worker } = openBridge()
      bridge.encodeArgs(args)
      const body = rig.send([A, B])
      const outcome = await rig.call(async () => [await readOverPort(worker, 1), await readOverPort(worker, 0)])
      assert.deepEqual(outcome, {
        ok: true,
        started: true,
        value: [
          { info: { field: 'b', filename: 'b.bin', type: 'application/octet-stream' }, bytes: { ok: true, value: fingerprint(B.bytes) } },
          { info: { field: 'a', filename: 'a.bin', type: 'application/octet-stream' }, bytes: { ok: true, value: fingerprint(A.bytes) } }
        ]
      })
      assert.equal(await body, 'complete')
      assert.equal(rig.session.spools, 1)
    } finally {
      left = await rig.close()
    }
    assert.deepEqual(left, [])
  })

  it('a $files list is pulled item by item; each item streams by its index, and the list ends with the body', HANG, async () => {
    const rig = await Rig.open()
    let left: string[]
    try {
      const parts = [filePart('d', 5000, { seed: 'd0', filename: 'one.txt' }), filePart('d', BIG, { seed: 'd1', filename: 'two.txt' })]
      const args = rig.bindArgs([{ $files: 'd' }])
      const { bridge, worker } = openBridge()
      bridge.encodeArgs(args)
      const body = rig.send(parts)
      const outcome = await rig.call(async () => {
        const read: unknown[] = []
        for (;;) {
          worker.post({ t: 'next', group: 0 })
          const item = await worker.take()
          if (item.t !== 'item') return [...read, item]
          read.push({ file: item.file, filename: item.info.filename, bytes: (await readOverPort(worker, item.file)).bytes })
        }
      })
      assert.deepEqual(outcome, {
        ok: true,
        started: true,
        value: [
          { file: 0, filename: 'one.txt', bytes: { ok: true, value: fingerprint((parts[0] as { bytes: Buffer }).bytes) } },
          { file: 1, filename: 'two.txt', bytes: { ok: true, value: fingerprint((parts[1] as { bytes: Buffer }).bytes) } },
          { t: 'items-end', group: 0 }
        ]
      })
      assert.equal(await body, 'complete')
    } finally {
      left = await rig.close()
    }
    assert.deepEqual(left, [])
  })

  it('a $files list whose upload fails answers the next pull with the failure', HANG, async () => {
    const rig = await Rig.open()
    let left: string[]
    try {
      const args = rig.bindArgs([{ $files: 'd' }])
      const { bridge, worker } = openBridge()
      bridge.encodeArgs(args)
      const body = rig.sendPart(filePart('d', 100))
      const outcome = await rig.call(async () => {
        worker.post({ t: 'next', group: 0 })
        const first = await worker.take()
        worker.post({ t: 'next', group: 0 })
        rig.session.fail(new RpcError(ErrorCode.UPLOAD_STALLED, 'stalled'))
        return [first.t, await worker.take()]
      })
      assert.deepEqual(outcome, {
        ok: true,
        started: true,
        value: ['item', { t: 'items-fail', group: 0, error: { code: ErrorCode.UPLOAD_STALLED, message: 'stalled' } }]
      })
      assert.equal(await body, true)
    } finally {
      left = await rig.close()
    }
    assert.deepEqual(left, [])
  })
})
