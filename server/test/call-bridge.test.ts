/**
 * The worker protocol (messages.ts): the main-thread end of a worker call (CallBridge) with the worker played by test
 * code, and both real ends together — the bridge serving a real upload, the worker's PortFiles binding the call's wire
 * params with the server's own binder over a real MessageChannel.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { MessageChannel } from 'node:worker_threads'
import { ErrorCode, RpcError } from '@formcall/spec'
import { UploadedFile, UploadedFiles, type FileInfo } from '../src/bind/uploaded-file.js'
import { bindPlaceholders } from '../src/bind/bind-placeholders.js'
import { PortFiles } from '../src/dispatch/worker/port-files.js'
import type { CallReport, DownloadToMain, DownloadToWorker, MainToWorker } from '../src/dispatch/worker/messages.js'
import type { Outcome } from '../src/dispatch/outcome.js'
import { BIG, Rig, contentOf, filePart, fingerprint, outcomeOf } from './support/upload-rig.js'
import { HeldPart, closeBridges, openBridge } from './support/worker-peer.js'

/** Guards against a hang stalling the run; no test comes near it. */
const HANG = { timeout: 20_000 }
afterEach(closeBridges)
const INFO_A: FileInfo = { field: 'a', filename: 'a.txt', type: 'text/plain' }
const INFO_B: FileInfo = { field: 'b', filename: 'b.bin', type: 'application/octet-stream' }

/** An outcome as a row states it: the JSON text, the error's code (and the keys a row names), or the download's headers. */
function seen (outcome: Outcome, keys: readonly string[] = []): unknown {
  if (outcome.kind === 'json') return { json: outcome.json }
  if (outcome.kind === 'download') return { download: [outcome.download.filename, outcome.download.type, outcome.download.size] }
  const wire = outcome.error.toJSON() as unknown as Record<string, unknown>
  return { error: Object.fromEntries(['code', ...keys].map((key) => [key, wire[key]])) }
}

/** `count` chunks of distinct bytes, each in its own buffer, as a worker posts them. */
function chunks (count: number, size = 1000): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => new Uint8Array(contentOf(`chunk${i}`, size)))
}

describe('the outcome of a call', () => {
  type Step = CallReport | 'task ended' | { pool: RpcError }
  const start: CallReport = { t: 'start', threadId: 7 }
  const json = (text: string): CallReport => ({ t: 'outcome', outcome: { kind: 'json', json: text } })
  const rows: Array<{ what: string, steps: Step[], expect: unknown, keys?: string[] }> = [
    { what: 'a result settles it with the method\'s JSON text', steps: [start, json('{"sum":3}')], expect: { json: '{"sum":3}' } },
    {
      what: 'an error settles it with that RpcError, code, message and data kept',
      steps: [start, { t: 'outcome', outcome: { kind: 'error', error: { code: 4001, message: 'no such order', data: { order: 9 } } } }],
      expect: { error: { code: 4001, message: 'no such order', data: { order: 9 } } },
      keys: ['message', 'data']
    },
    {
      what: 'the first outcome counts: a result after an error is ignored',
      steps: [start, { t: 'outcome', outcome: { kind: 'error', error: { code: ErrorCode.INVALID_PARAMS, message: 'bad' } } }, json('1')],
      expect: { error: { code: ErrorCode.INVALID_PARAMS } }
    },
    { what: 'a result, then the task ends: the result stands', steps: [start, json('null'), 'task ended'], expect: { json: 'null' } },
    {
      what: 'the task\'s end before the outcome (they travel on different ports): the outcome that follows counts',
      steps: [start, 'task ended', json('2')],
      expect: { json: '2' }
    },
    {
      what: 'the pool\'s report (a timeout, a crash) is the outcome of a call that had none',
      steps: [start, { pool: new RpcError(ErrorCode.CALL_TIMEOUT, 'too slow') }],
      expect: { error: { code: ErrorCode.CALL_TIMEOUT, message: 'too slow' } },
      keys: ['message']
    },
    {
      what: 'the pool\'s report after the outcome changes nothing',
      steps: [start, json('3'), { pool: new RpcError(ErrorCode.WORKER_CRASHED, 'out of memory (maxHeapMb)') }],
      expect: { json: '3' }
    },
    {
      what: 'a worker that never started, gone: the pool\'s report',
      steps: [{ pool: new RpcError(ErrorCode.WORKER_CRASHED, 'exited') }],
      expect: { error: { code: ErrorCode.WORKER_CRASHED } }
    }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => {
      const { bridge, worker } = openBridge()
      for (const step of row.steps) {
        if (step === 'task ended') bridge.taskEnded()
        else if ('pool' in step) bridge.taskEnded(step.pool)
        else worker.post(step)
      }
      assert.deepEqual(seen(await bridge.outcome, row.keys), row.expect)
      if (row.steps.includes(start)) {
        await bridge.started
        assert.equal(bridge.threadId, 7)
      }
    })
  }

  it('a task that ended well and whose outcome never comes fails WORKER_CRASHED rather than hang the request', HANG, async () => {
    const { bridge, worker } = openBridge()
    worker.post(start)
    bridge.taskEnded()
    // The bridge's bound does not keep a process alive (its timer is unref'd); the test waits for it.
    const alive = setInterval(() => {}, 1000)
    try {
      assert.deepEqual(seen(await bridge.outcome), { error: { code: ErrorCode.WORKER_CRASHED } })
    } finally {
      clearInterval(alive)
    }
  })

  it('a method\'s log lines reach the request\'s logger, with or without an object, before its outcome', HANG, async () => {
    const { bridge, worker, logs } = openBridge()
    worker.post({ t: 'log', level: 'warn', msg: 'slow disk' })
    worker.post({ t: 'log', level: 'error', msg: 'failed', obj: { order: 9 } })
    worker.post(json('1'))
    await bridge.outcome
    assert.deepEqual(logs, [['warn', 'slow disk'], ['error', { order: 9 }, 'failed']])
  })

  it('a call without files has no port and no files task', () => {
    const { bridge } = openBridge()
    assert.deepEqual([bridge.hasFiles, bridge.filesTask], [false, undefined])
  })
})

describe('a download from the worker, on a port of its own', () => {
  const body = chunks(19)
  const whole = fingerprint(Buffer.concat(body))
  type After = DownloadToMain | 'worker gone'
  const rows: Array<{ what: string, after: After[], expect: unknown }> = [
    { what: 'its bytes are read in order and it ends', after: [{ t: 'end' }], expect: { ok: true, value: whole } },
    {
      what: 'the worker\'s failure mid-way fails the stream with its error, never ends it',
      after: [{ t: 'error', error: { code: ErrorCode.INTERNAL_ERROR, message: 'disk gone' } }],
      expect: { ok: false, code: ErrorCode.INTERNAL_ERROR }
    },
    { what: 'the worker gone mid-way (its port closed) fails the stream with WORKER_CRASHED', after: ['worker gone'], expect: { ok: false, code: ErrorCode.WORKER_CRASHED } },
    { what: 'the worker gone after the end changes nothing', after: [{ t: 'end' }, 'worker gone'], expect: { ok: true, value: whole } }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => {
      const { bridge, worker } = openBridge()
      const { port1: sender, port2 } = new MessageChannel()
      const acks: DownloadToWorker[] = []
      sender.on('message', (message: DownloadToWorker) => acks.push(message))
      worker.post({ t: 'start', threadId: 1 })
      worker.post({ t: 'outcome', outcome: { kind: 'download', filename: 'report.csv', type: 'text/csv', size: 19_000, port: port2 } })
      const outcome = await bridge.outcome
      assert.deepEqual(seen(outcome), { download: ['report.csv', 'text/csv', 19_000] })
      const stream = await (outcome as Outcome & { kind: 'download' }).download.open()
      for (const chunk of body) sender.postMessage({ t: 'data', chunks: [new Uint8Array(chunk)] } satisfies DownloadToMain)
      for (const step of row.after) {
        if (step === 'worker gone') sender.close()
        else sender.postMessage(step)
      }
      const read = await outcomeOf((async () => {
        const got: Buffer[] = []
        for await (const chunk of stream) got.push(chunk as Buffer)
        return fingerprint(Buffer.concat(got))
      })())
      assert.deepEqual(read.ok ? read : { ok: false, code: (read.error as RpcError).code }, row.expect)
      sender.close()
    })
  }

  it('a download the client stopped reading tells the worker to stop', HANG, async () => {
    const { bridge, worker } = openBridge()
    const { port1: sender, port2 } = new MessageChannel()
    const told = new Promise<DownloadToWorker>((resolve) => sender.on('message', (message: DownloadToWorker) => { if (message.t === 'cancel') resolve(message) }))
    worker.post({ t: 'outcome', outcome: { kind: 'download', filename: undefined, type: 'application/octet-stream', size: undefined, port: port2 } })
    const outcome = await bridge.outcome as Outcome & { kind: 'download' }
    assert.deepEqual([outcome.download.filename, outcome.download.size], [undefined, undefined])
    const stream = await outcome.download.open()
    sender.postMessage({ t: 'data', chunks: [new Uint8Array(10)] } satisfies DownloadToMain)
    for await (const _ of stream) break
    assert.deepEqual(await told, { t: 'cancel' })
    sender.close()
  })
})

describe('file arguments', () => {
  it('the files task names each bound part, with its headers if they arrived; later headers follow at once', HANG, async () => {
    const arrived = new HeldPart()
    arrived.arrive(INFO_A)
    const later = new HeldPart()
    const list = new UploadedFiles('docs', { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) })
    const { bridge, worker } = openBridge(new Map<string, UploadedFile | UploadedFiles>([
      ['a', new UploadedFile('a', arrived)], ['docs', list], ['b', new UploadedFile('b', later)]
    ]))
    const task = bridge.filesTask
    assert.ok(task !== undefined)
    assert.deepEqual([task.file, task.list, task.infos], [['a', 'b'], ['docs'], [INFO_A, null]])
    assert.equal(bridge.hasFiles, true)
    later.arrive(INFO_B)
    assert.deepEqual(await worker.takeMany(2), [{ t: 'info', file: 0, info: INFO_A }, { t: 'info', file: 1, info: INFO_B }])
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
    // A part arriving after the task was made has its headers sent at once (the arrival hook), and again in answer.
    { what: 'ready, the part arriving later: its headers once it arrives', request: 'ready', part: (p) => p.arrive(INFO_A), expect: [{ t: 'info', file: 0, info: INFO_A }, { t: 'info', file: 0, info: INFO_A }], opened: 0 },
    { what: 'ready, the part never coming: fail with its error', request: 'ready', part: (p) => p.never(missing), expect: [{ t: 'fail', file: 0, error: missing.toJSON() }], opened: 0 },
    { what: 'open, the part never coming: fail, and no stream is opened', request: 'open', part: (p) => p.never(missing), expect: [{ t: 'fail', file: 0, error: missing.toJSON() }], opened: 0 },
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
      const part = new HeldPart()
      const { worker } = openBridge(new Map([['a', new UploadedFile('a', part)]]))
      worker.post({ t: row.request, file: 0 })
      await part.asked
      await row.part(part)
      assert.deepEqual(await worker.takeMany(row.expect.length), row.expect)
      assert.equal(part.opened, row.opened)
    })
  }

  it('a request for a file the call does not have fails that file, not the process', HANG, async () => {
    const { worker } = openBridge(new Map([['a', new UploadedFile('a', new HeldPart())]]))
    worker.post({ t: 'open', file: 3 })
    worker.post({ t: 'ready', file: 4 })
    const [open, ready] = await worker.takeMany(2) as Array<MainToWorker & { t: 'fail' }>
    assert.deepEqual([open?.t, open?.file, open?.error.code, ready?.t, ready?.file], ['fail', 3, ErrorCode.INVALID_REQUEST, 'fail', 4])
  })

  it('a call stopped mid-stream (timeout, crash, shutdown) stops the file\'s source and fails the outcome', HANG, async () => {
    const part = new HeldPart()
    part.arrive(INFO_A)
    for (const chunk of chunks(64)) part.stream.push(Buffer.from(chunk))
    const { bridge, worker } = openBridge(new Map([['a', new UploadedFile('a', part)]]))
    worker.post({ t: 'open', file: 0 })
    await part.whenOpened
    bridge.taskEnded(new RpcError(ErrorCode.CALL_TIMEOUT, 'too slow'))
    assert.equal(part.stream.destroyed, true)
    assert.deepEqual(seen(await bridge.outcome), { error: { code: ErrorCode.CALL_TIMEOUT } })
    void worker
  })
})

describe('both ends of the protocol over a real upload', () => {
  /** The worker's end: PortFiles on the task's port, reporting to the bridge as the pool's router would. */
  function workerEnd (bridge: ReturnType<typeof openBridge>['bridge']): PortFiles {
    const task = bridge.filesTask
    assert.ok(task !== undefined)
    return new PortFiles(task, (report) => bridge.receive(report))
  }

  it('the worker binds the wire params with the server\'s binder: files where placeholders were, forged markers stay data', HANG, async () => {
    const rig = await Rig.open()
    let left: string[]
    try {
      const A = filePart('a', BIG, { filename: 'a.bin' })
      const B = filePart('b', BIG, { filename: 'b.bin' })
      const params = [{ first: { $file: 'a' }, forged: { $formcallFile: 0 }, note: '__file__' }, [{ $file: 'b' }]]
      const { files } = rig.bind(params)
      const { bridge } = openBridge(files)
      const { args } = bindPlaceholders(params, workerEnd(bridge))
      const [named, list] = args as [{ first: UploadedFile, forged: unknown, note: string }, [UploadedFile]]
      assert.deepEqual(params[0], { first: { $file: 'a' }, forged: { $formcallFile: 0 }, note: '__file__' }, 'the wire params are left as they came')
      assert.deepEqual([named.forged, named.note, named.first instanceof UploadedFile, list[0] instanceof UploadedFile], [{ $formcallFile: 0 }, '__file__', true, true])
      const body = rig.send([A, B])
      // Out of order: the later file first, so the earlier one is spooled on the main side.
      const outcome = await rig.call(async () => {
        const b = fingerprint(await list[0].bytes())
        const a = fingerprint(await named.first.bytes())
        return [a, b, named.first.filename, list[0].filename]
      })
      assert.deepEqual(outcome, { ok: true, started: true, value: [fingerprint(A.bytes), fingerprint(B.bytes), 'a.bin', 'b.bin'] })
      assert.equal(await body, 'complete')
      assert.equal(rig.session.spools, 1)
    } finally {
      left = await rig.close()
    }
    assert.deepEqual(left, [])
  })

  it('a $files list is pulled item by item through the worker\'s file objects, and ends with the body', HANG, async () => {
    const rig = await Rig.open()
    let left: string[]
    try {
      const parts = [filePart('d', 5000, { seed: 'd0', filename: 'one.txt' }), filePart('d', BIG, { seed: 'd1', filename: 'two.txt' })]
      const params = [{ $files: 'd' }]
      const { bridge } = openBridge(rig.bind(params).files)
      const [docs] = bindPlaceholders(params, workerEnd(bridge)).args as [UploadedFiles]
      const body = rig.send(parts)
      const outcome = await rig.call(async () => {
        const read: unknown[] = []
        for await (const file of docs) read.push({ filename: file.filename, bytes: fingerprint(await file.bytes()) })
        return read
      })
      assert.deepEqual(outcome, {
        ok: true,
        started: true,
        value: parts.map((part, i) => ({ filename: ['one.txt', 'two.txt'][i], bytes: fingerprint((part as { bytes: Buffer }).bytes) }))
      })
      assert.equal(await body, 'complete')
    } finally {
      left = await rig.close()
    }
    assert.deepEqual(left, [])
  })

  it('an upload that fails mid-way fails the worker\'s stream with the upload\'s error, never ends it', HANG, async () => {
    const rig = await Rig.open()
    let left: string[]
    try {
      const params = [{ $file: 'a' }]
      const { bridge } = openBridge(rig.bind(params).files)
      const [file] = bindPlaceholders(params, workerEnd(bridge)).args as [UploadedFile]
      const body = rig.sendPart(filePart('a', BIG))
      const outcome = await rig.call(async () => {
        const reading = file.bytes()
        rig.session.fail(new RpcError(ErrorCode.UPLOAD_STALLED, 'stalled'))
        return await reading
      })
      assert.deepEqual([outcome.ok, (outcome as { error?: RpcError }).error?.code], [false, ErrorCode.UPLOAD_STALLED])
      await body
    } finally {
      left = await rig.close()
    }
    assert.deepEqual(left, [])
  })

  it('an abort in the worker fails its unread files with the reason', HANG, async () => {
    const part = new HeldPart()
    const { bridge } = openBridge(new Map([['a', new UploadedFile('a', part)]]))
    const files = workerEnd(bridge)
    const [file] = bindPlaceholders([{ $file: 'a' }], files).args as [UploadedFile]
    const reading = outcomeOf(file.ready())
    files.fail(new RpcError(ErrorCode.ABORTED, 'the client closed the connection'))
    const read = await reading
    assert.deepEqual([read.ok, (read as { error?: RpcError }).error?.code], [false, ErrorCode.ABORTED])
    files.close()
  })
})
