/**
 * The worker pool against a real server over real HTTP: a method that throws, crashes, exits, hangs or runs out of
 * memory fails its own call only, while a call on another worker carries on and the pool keeps its size; uploads
 * cut short, queue overflow, slow clients, out-of-order reads, downloads and graceful shutdown.
 *
 * Workers take about a second each to start, so each suite shares one server.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { ErrorCode } from '@formcall/spec'
import { generatedChunks, generatedSha256, sha256 } from './support/pool-bytes.js'
import { PoolChannel } from './support/pool-channel.js'
import { callJson, PendingUpload, startPoolServer, threadCount, type CallResponse, type PoolServer } from './support/pool-server.js'
import { waitFor } from './support/wait.js'
import { postJson } from './support/raw-http.js'

const KiB = 1024
const MiB = 1024 * KiB
/** How long to wait for something that happens asynchronously: a hang guard, not a performance expectation. */
const PATIENCE = 20_000

/** Deterministic content of `size` bytes. */
function contentOf (size: number): Buffer {
  return Buffer.concat([...generatedChunks(size)])
}

/**
 * Runs `failing` while another call, an upload on its own worker, is half-way through its body; then finishes that
 * upload and checks it was answered correctly. The bystander is still in flight when `failing` is answered, so the
 * two calls overlap for the whole failure.
 */
async function whileAnotherCallRuns<T> (server: PoolServer, failing: () => Promise<T>): Promise<T> {
  const channel = new PoolChannel()
  try {
    const content = contentOf(512 * KiB)
    const upload = await PendingUpload.open(server.url,
      { method: 'uploads.digest', params: [{ $file: 'f' }, channel.name, 'bystander'], id: 'bystander' },
      [{ name: 'f', filename: 'bystander.bin', type: 'application/octet-stream', content }])
    await upload.sendUntil(upload.contentStart(0) + content.length / 2)
    const started = await channel.next((event) => event.event === 'started' && event.id === 'bystander')

    const outcome = await failing()

    assert.equal(upload.answered, false, 'the bystander upload is still in flight after the failing call was answered')
    await upload.sendRest()
    const response = await upload.response
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(response.json().result, { size: content.length, sha256: sha256(content), threadId: started.threadId })
    return outcome
  } finally {
    channel.close()
  }
}

/**
 * Proves the pool has `workers` workers serving: that many calls of a barrier method must be inside the method at
 * once (each on its own worker) before any returns. Under a short call timeout, pass `patienceMs` (well below it):
 * each round then gives up in time, and rounds repeat until a replaced worker has booted.
 */
async function assertWorkersServe (server: PoolServer, workers: number, patienceMs?: number): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const channel = new PoolChannel()
    try {
      const params: unknown[] = [channel.name, workers, ...(patienceMs === undefined ? [] : [patienceMs])]
      const responses = await Promise.all(Array.from({ length: workers }, async () => await server.call('barrier', ...params)))
      for (const response of responses) assert.equal(response.status, 200, JSON.stringify(response.body))
      if (responses.every((response) => response.body.result.complete === true)) {
        const threads = new Set(responses.map((response) => response.body.result.threadId as number))
        assert.equal(threads.size, workers, `the ${workers} calls ran on ${workers} different worker threads`)
        assert.ok(![...threads].includes(0), 'no call ran in the server thread')
        return
      }
      assert.ok(Date.now() < deadline, `${workers} workers did not serve at once within 30 s`)
    } finally {
      channel.close()
    }
  }
}

function assertError (response: CallResponse, status: number, code: number): { message: string, data?: any } {
  assert.equal(response.status, status, JSON.stringify(response.body))
  assert.equal(response.body.error?.code, code, JSON.stringify(response.body))
  return response.body.error as { message: string, data?: any }
}

describe('a method that fails in its worker fails its own call only', () => {
  const WORKERS = 3
  let server: PoolServer

  before(async () => {
    server = await startPoolServer({ isolation: 'worker', workers: WORKERS, maxHeapMb: 64 })
  })
  after(async () => { await server?.close() })

  test('a method that throws answers -32000 with its message while a call on another worker completes', async () => {
    const response = await whileAnotherCallRuns(server, async () => await server.call('fail.throws', 'the disk is full'))
    const error = assertError(response, 500, ErrorCode.METHOD_RAISED)
    assert.equal(error.message, 'the disk is full')
    assert.equal(error.data, undefined, 'no stack trace unless exposeErrors is set')
    assert.deepEqual((await server.call('echo', 'still here')).body.result, 'still here')
  })

  test('a method whose promise rejects answers -32000 with the rejection message', async () => {
    const response = await whileAnotherCallRuns(server, async () => await server.call('fail.rejects', 'not a number'))
    assert.equal(assertError(response, 500, ErrorCode.METHOD_RAISED).message, 'not a number')
    assert.deepEqual((await server.call('echo', 1)).body.result, 1)
  })

  test('a method that throws its own RpcError answers with that code, message and data', async () => {
    const response = await whileAnotherCallRuns(server, async () => await server.call('fail.rpcError'))
    const error = assertError(response, 400, 4040)
    assert.equal(error.message, 'no such invoice; check its number')
    assert.deepEqual(error.data, { invoice: 'A-17' })
    await assertWorkersServe(server, WORKERS)
  })

  test('an exception thrown in a timer callback answers -32006 and the worker is replaced', async () => {
    const response = await whileAnotherCallRuns(server, async () => await server.call('crash.inTimer', 'tick went wrong'))
    const error = assertError(response, 500, ErrorCode.WORKER_CRASHED)
    assert.match(error.message, /tick went wrong/)
    await assertWorkersServe(server, WORKERS)
  })

  test('a method that calls process.exit(3) answers -32006 and the worker is replaced', async () => {
    const response = await whileAnotherCallRuns(server, async () => await server.call('crash.exit', 3))
    const error = assertError(response, 500, ErrorCode.WORKER_CRASHED)
    assert.match(error.message, /exit/i)
    assert.match(error.message, /\b3\b/)
    await assertWorkersServe(server, WORKERS)
  })

  test('a method that exhausts the worker heap answers -32006 about memory and the worker is replaced', async () => {
    const response = await whileAnotherCallRuns(server, async () => await server.call('crash.exhaustMemory'))
    const error = assertError(response, 500, ErrorCode.WORKER_CRASHED)
    assert.match(error.message, /memory/i)
    await assertWorkersServe(server, WORKERS)
  })

  test('a client that vanishes mid-upload aborts the method, fails its file stream, removes spool files and frees the worker', async () => {
    const channel = new PoolChannel()
    try {
      // Larger than the parser's and the socket's buffers, so the method's reading "b" first forces "a" to disk.
      const first = contentOf(1 * MiB)
      const second = contentOf(2 * MiB)
      const report = await whileAnotherCallRuns(server, async () => {
        const upload = await PendingUpload.open(server.url,
          { method: 'uploads.watchAbort', params: [{ $file: 'a' }, { $file: 'b' }, channel.name], id: 'gone' },
          [{ name: 'a', filename: 'a.bin', content: first }, { name: 'b', filename: 'b.bin', content: second }])
        await upload.sendUntil(upload.contentStart(1) + 256 * KiB)
        await channel.next((event) => event.event === 'reading')
        // The method reads "b" first, so "a" went to a spool file.
        await waitFor(async () => (await server.tmpFiles()).length > 0, 'the unread first file is spooled to disk', PATIENCE)
        upload.destroy()
        return await channel.next((event) => event.event === 'report')
      })
      assert.equal(report.aborted, true, 'the method\'s AbortSignal fired')
      assert.equal((report.reason as { code: unknown }).code, ErrorCode.ABORTED)
      assert.equal(report.streamEnded, false, 'a cut-short file never ends as if complete')
      assert.notEqual(report.streamError, null, 'the file stream failed')
      assert.equal((report.streamError as { code: unknown }).code, ErrorCode.ABORTED)
      assert.ok((report.bytes as number) < second.length)
      await waitFor(async () => (await server.tmpFiles()).length === 0, 'no spool files remain', PATIENCE)
      await assertWorkersServe(server, WORKERS)
    } finally {
      channel.close()
    }
  })

  test('a method that reads its second file before its first gets both contents right', async () => {
    const first = Buffer.from('first file '.repeat(30_000))
    const second = Buffer.from('second file, small')
    const upload = await PendingUpload.open(server.url,
      { method: 'uploads.secondFirst', params: [{ $file: 'one' }, { $file: 'two' }], id: 1 },
      [{ name: 'one', filename: 'one.txt', type: 'text/plain', content: first }, { name: 'two', filename: 'two.txt', content: second }])
    await upload.sendRest()
    const response = await upload.response
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(response.json().result, { first: first.toString(), second: second.toString(), names: ['one.txt', 'two.txt'] })
    await waitFor(async () => (await server.tmpFiles()).length === 0, 'the spool file of the first part is removed', PATIENCE)
  })

  test('more trickling uploads than workers leave the reserved worker to small calls, which complete meanwhile', async () => {
    const channel = new PoolChannel()
    try {
      const content = contentOf(256 * KiB)
      const uploads = await Promise.all(Array.from({ length: WORKERS + 1 }, async (_, index) => {
        const upload = await PendingUpload.open(server.url,
          { method: 'uploads.digest', params: [{ $file: 'f' }, channel.name, `slow-${index}`], id: index },
          [{ name: 'f', filename: `slow-${index}.bin`, content }])
        await upload.sendUntil(upload.contentStart(0) + content.length / 2)
        return upload
      }))
      // Every upload lane is taken by a slow client; the others wait for a lane, not for a worker.
      const started = (): number => channel.heard.filter((event) => event.event === 'started').length
      await waitFor(() => started() >= WORKERS - 1, 'the upload lanes are taken', PATIENCE)

      const small = await Promise.all(Array.from({ length: 6 }, async (_, index) => await server.call('echo', { small: index })))
      for (const [index, response] of small.entries()) assert.deepEqual(response.body.result, { small: index })
      assert.deepEqual(uploads.map((upload) => upload.answered), uploads.map(() => false),
        'every slow upload is still in flight when the small calls have been answered')
      assert.equal(started(), WORKERS - 1, 'one worker is kept free of uploads')

      await Promise.all(uploads.map(async (upload) => await upload.sendRest()))
      for (const upload of uploads) {
        const response = await upload.response
        assert.equal(response.status, 200, response.text)
        assert.equal(response.json().result.sha256, sha256(content))
      }
    } finally {
      channel.close()
    }
  })

  test('a 50 MB download generated in a worker arrives complete with Content-Length', async () => {
    const size = 50 * MiB
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'downloads.generate', params: [size], id: 1 })
    })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-length'), String(size))
    assert.equal(response.headers.get('x-formcall-download'), '1')
    assert.match(response.headers.get('content-disposition') ?? '', /filename="generated\.bin"/)
    const body = Buffer.from(await response.arrayBuffer())
    assert.equal(body.length, size)
    assert.equal(sha256(body), generatedSha256(size))
  })
})

describe('a method that never returns', () => {
  const WORKERS = 2
  let server: PoolServer

  before(async () => {
    server = await startPoolServer({ isolation: 'worker', workers: WORKERS, callTimeout: 500 })
  })
  after(async () => { await server?.close() })

  test('answers -32005 with HTTP 504 after the call timeout; its worker is stopped and replaced', async () => {
    const response = await whileAnotherCallRuns(server, async () => await server.call('crash.spin'))
    const error = assertError(response, 504, ErrorCode.CALL_TIMEOUT)
    assert.match(error.message, /500 ms/)
    await assertWorkersServe(server, WORKERS, 200)
  })
})

describe('several calls per worker (callsPerWorker: 2)', () => {
  test('two calls run inside one worker at the same time', async () => {
    const server = await startPoolServer({ isolation: 'worker', workers: 1, callsPerWorker: 2 })
    const channel = new PoolChannel()
    try {
      const responses = await Promise.all([server.call('barrier', channel.name, 2, 20_000), server.call('barrier', channel.name, 2, 20_000)])
      for (const response of responses) assert.equal(response.status, 200, JSON.stringify(response.body))
      assert.deepEqual(responses.map((r) => r.body.result.complete), [true, true])
      assert.equal(new Set(responses.map((r) => r.body.result.threadId)).size, 1, 'both calls ran on the one worker')
    } finally {
      channel.close()
      await server.close()
    }
  })

  test('a call that never returns still times out: its thread is stopped and a fresh worker serves', async () => {
    const server = await startPoolServer({ isolation: 'worker', workers: 1, callsPerWorker: 2, callTimeout: 500 })
    try {
      const response = await server.call('crash.spin')
      assertError(response, 504, ErrorCode.CALL_TIMEOUT)
      const after = await server.call('echo', 'still serving')
      assert.equal(after.status, 200, JSON.stringify(after.body))
      assert.equal(after.body.result, 'still serving')
    } finally {
      await server.close()
    }
  })
})

describe('a pool of one worker', () => {
  const CALL_TIMEOUT = 500
  let server: PoolServer

  before(async () => {
    server = await startPoolServer({ isolation: 'worker', workers: 1, maxQueue: 1, callTimeout: CALL_TIMEOUT })
  })
  after(async () => { await server?.close() })

  test('calls past maxQueue get 503 -32007 at once; the queued call outwaits the call timeout and still runs', async () => {
    const channel = new PoolChannel()
    try {
      // The only worker is taken by an upload whose body is still coming (its call timeout has not started).
      const content = contentOf(256 * KiB)
      const occupant = await PendingUpload.open(server.url,
        { method: 'uploads.digest', params: [{ $file: 'f' }, channel.name, 'occupant'], id: 'occupant' },
        [{ name: 'f', filename: 'occupant.bin', content }])
      await occupant.sendUntil(occupant.contentStart(0) + content.length / 2)
      await channel.next((event) => event.event === 'started' && event.id === 'occupant')

      const ids = ['late-1', 'late-2', 'late-3']
      const settled = new Map<string, CallResponse>()
      const late = ids.map(async (id) => {
        const response = await server.call('echo', id)
        settled.set(id, response)
        return response
      })
      await waitFor(() => settled.size >= 2, 'two of the late calls are answered', PATIENCE)
      assert.equal(occupant.answered, false, 'the refusals came while the worker was busy')
      for (const response of settled.values()) {
        const error = assertError(response, 503, ErrorCode.OVERLOADED)
        assert.match(error.message, /retry/)
      }
      const queued = ids.find((id) => !settled.has(id)) as string
      // A notification refused for overload keeps the 503 (no body), so a client or proxy can retry it.
      const notification = await postJson(server.url, { jsonrpc: '2.0', method: 'echo', params: ['dropped'] })
      assert.equal(notification.status, 503, notification.text)
      assert.equal(notification.text, '')
      assert.equal(notification.headers['retry-after'], '1')

      // Time spent waiting for a worker is not time the method ran.
      await new Promise((resolve) => setTimeout(resolve, 2 * CALL_TIMEOUT))
      assert.equal(settled.has(queued), false, 'the queued call is still waiting for the worker')

      await occupant.sendRest()
      const response = await occupant.response
      assert.equal(response.status, 200, response.text)
      assert.equal(response.json().result.sha256, sha256(content))
      const answers = await Promise.all(late)
      assert.deepEqual(answers[ids.indexOf(queued)]?.body.result, queued)
      assert.equal(answers.filter((answer) => answer.status === 503).length, 2)
      assert.deepEqual((await server.call('echo', 'after')).body.result, 'after')
    } finally {
      channel.close()
    }
  })

  test('a client that vanishes mid-upload frees the only worker and upload lane for the next upload and call', async () => {
    const channel = new PoolChannel()
    try {
      const upload = await PendingUpload.open(server.url,
        { method: 'uploads.watchAbort', params: [{ $file: 'a' }, { $file: 'b' }, channel.name], id: 'gone' },
        [{ name: 'a', content: 'small first part' }, { name: 'b', filename: 'b.bin', content: contentOf(1 * MiB) }])
      await upload.sendUntil(upload.contentStart(1) + 100 * KiB)
      await channel.next((event) => event.event === 'reading')
      upload.destroy()
      const report = await channel.next((event) => event.event === 'report')
      assert.equal(report.aborted, true)
      assert.notEqual(report.streamError, null)

      const content = contentOf(300 * KiB)
      const next = await PendingUpload.open(server.url, { method: 'uploads.digest', params: [{ $file: 'f' }], id: 2 },
        [{ name: 'f', filename: 'next.bin', content }])
      await next.sendRest()
      const response = await next.response
      assert.equal(response.status, 200, response.text)
      assert.equal(response.json().result.sha256, sha256(content))
      assert.deepEqual((await server.call('echo', 'free')).body.result, 'free')
      await waitFor(async () => (await server.tmpFiles()).length === 0, 'no spool files remain', PATIENCE)
    } finally {
      channel.close()
    }
  })
})

describe('graceful shutdown', () => {
  test('close() lets a call that finishes in time complete, stops one that does not, and leaves no threads or spool files', async () => {
    const baseline = await threadCount()
    const server = await startPoolServer({ isolation: 'worker', workers: 2, shutdownTimeout: 3000 })
    const channel = new PoolChannel()
    try {
      await waitFor(async () => await threadCount() >= baseline + 2, 'the worker threads are up', PATIENCE)

      // An upload in flight whose method waits for its second file, so the first sits in a spool file.
      const first = contentOf(200 * KiB)
      const second = contentOf(200 * KiB)
      const upload = await PendingUpload.open(server.url,
        { method: 'uploads.secondFirst', params: [{ $file: 'a' }, { $file: 'b' }, channel.name], id: 'upload' },
        [{ name: 'a', content: first }, { name: 'b', content: second }])
      await upload.sendUntil(upload.contentStart(1) + 100 * KiB)
      await channel.next((event) => event.event === 'started')
      await waitFor(async () => (await server.tmpFiles()).length > 0, 'the first file is spooled', PATIENCE)

      // A call that would never finish on its own.
      const stuck = callJson(server.url, 'hold', [channel.name, 'stuck']).catch((err: unknown) => err as Error)
      await channel.next((event) => event.event === 'started' && event.id === 'stuck')

      const closing = server.app.close()
      await waitFor(async () => {
        const probe = await callJson(server.url, 'echo', ['probe']).catch(() => undefined)
        return probe?.status === 503
      }, 'the server refuses new calls', PATIENCE)

      await upload.sendRest()
      const response = await upload.response
      assert.equal(response.status, 200, response.text)
      assert.deepEqual(response.json().result.first, first.toString())
      assert.deepEqual(response.json().result.second, second.toString())

      const cut = await stuck
      if (!(cut instanceof Error)) assertError(cut, 503, ErrorCode.SHUTTING_DOWN)
      await closing

      // A worker thread that outlived close() would keep this count up for good.
      await waitFor(async () => await threadCount() <= baseline, `the thread count to fall back to ${baseline}`, PATIENCE)
      assert.deepEqual(await server.tmpFiles(), [])
    } finally {
      channel.close()
      await server.close()
    }
  })
})

describe("isolation: 'inline'", () => {
  let server: PoolServer

  before(async () => {
    server = await startPoolServer({ isolation: 'inline' })
  })
  after(async () => { await server?.close() })

  test('runs the same methods module in the server thread: results, errors, uploads and downloads', async () => {
    assert.deepEqual((await server.call('whoami')).body.result, { threadId: 0 })
    assert.equal(assertError(await server.call('fail.throws', 'inline boom'), 500, ErrorCode.METHOD_RAISED).message, 'inline boom')
    assert.deepEqual(assertError(await server.call('fail.rpcError'), 400, 4040).data, { invoice: 'A-17' })

    const first = Buffer.from('one '.repeat(50_000))
    const upload = await PendingUpload.open(server.url,
      { method: 'uploads.secondFirst', params: [{ $file: 'one' }, { $file: 'two' }], id: 1 },
      [{ name: 'one', filename: 'one.txt', content: first }, { name: 'two', filename: 'two.txt', content: 'two' }])
    await upload.sendRest()
    const response = await upload.response
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(response.json().result, { first: first.toString(), second: 'two', names: ['one.txt', 'two.txt'] })

    const download = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'downloads.generate', params: [MiB], id: 2 })
    })
    assert.equal(download.headers.get('content-length'), String(MiB))
    assert.equal(sha256(Buffer.from(await download.arrayBuffer())), generatedSha256(MiB))
  })
})
