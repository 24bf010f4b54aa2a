import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { ErrorCode, RpcError } from '@formcall/spec'
import { createClient, fileFromPath, TransportError } from '../src/index.js'
import { openDescriptors } from './support/open-descriptors.js'
import { sendEnvelope, startRecordingServer, type RecordingServer, type Responder } from './support/recording-server.js'

const MiB = 1024 * 1024
let dir: string
let bigFile: string
const servers: RecordingServer[] = []

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'formcall-client-send-'))
  // Larger than what loopback socket buffers absorb, so a stalled server leaves the upload mid-file.
  bigFile = join(dir, 'big.bin')
  writeFileSync(bigFile, Buffer.alloc(64 * MiB, 7))
})
after(async () => {
  await Promise.all(servers.map((s) => s.close()))
  rmSync(dir, { recursive: true, force: true })
})

async function serve (respond?: Responder): Promise<RecordingServer> {
  const server = await startRecordingServer(respond)
  servers.push(server)
  return server
}

/**
 * A server that reads `bytes` of the body, then stops reading and never answers, so the client's upload blocks
 * mid-body. (A paused socket also does not notice the peer leaving, so this server cannot report the drop.)
 */
async function stallingServer (bytes: number): Promise<{ server: RecordingServer; stalled: Promise<void> }> {
  let onStalled!: () => void
  const stalled = new Promise<void>((resolve) => { onStalled = resolve })
  const server = await serve(({ req }) => {
    let read = 0
    const onData = (chunk: Buffer): void => {
      read += chunk.length
      if (read >= bytes) {
        req.off('data', onData)
        req.pause()
        onStalled()
      }
    }
    req.on('data', onData)
  })
  return { server, stalled }
}

/** A server that reads and discards every byte and never answers; reports when the client drops the connection. */
async function silentServer (): Promise<{ server: RecordingServer; connectionClosed: Promise<void> }> {
  let onClosed!: () => void
  const connectionClosed = new Promise<void>((resolve) => { onClosed = resolve })
  const server = await serve(({ req, res }) => {
    req.resume()
    res.once('close', () => onClosed())
  })
  return { server, connectionClosed }
}

/** An endless stream of fresh chunks that records whether it was destroyed. */
function endless (): Readable & { wasDestroyed: Promise<void> } {
  const stream = new Readable({
    read () {
      this.push(Buffer.alloc(64 * 1024, 1))
    }
  })
  return Object.assign(stream, { wasDestroyed: once(stream, 'close').then(() => {}) })
}

async function freePort (): Promise<number> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('connection failures', () => {
  test('a refused connection rejects with a network TransportError that says what to check', async () => {
    const api = createClient(`http://127.0.0.1:${await freePort()}/rpc`)
    await assert.rejects(api.echo('hi'), (err: unknown) => {
      assert.ok(err instanceof TransportError)
      assert.equal(err.kind, 'network')
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED')
      assert.match(err.message, /call "echo".*could not connect.*check that the server is running/)
      return true
    })
  })

  test('a connection the server drops without answering rejects with a network TransportError', async () => {
    const server = await serve(({ req }) => { req.socket.destroy() })
    await assert.rejects(createClient(server.url).echo('hi'), (err: unknown) => err instanceof TransportError && err.kind === 'network')
  })

  test('a refused connection also closes the files the call had opened', async () => {
    const api = createClient(`http://127.0.0.1:${await freePort()}/rpc`)
    const stream = createReadStream(bigFile)
    await assert.rejects(api.files.store(stream), TransportError)
    assert.equal(stream.destroyed, true)
    assert.deepEqual(openDescriptors(bigFile), [])
  })
})

describe('timeouts and aborts', () => {
  test('a call that outlives its timeout rejects with a timeout TransportError, drops the request and destroys its stream', async () => {
    const { server, connectionClosed } = await silentServer()
    const api = createClient(server.url, { timeout: 200 })
    const stream = endless()
    await assert.rejects(api.files.store(stream), (err: unknown) => {
      assert.ok(err instanceof TransportError)
      assert.equal(err.kind, 'timeout')
      assert.match(err.message, /call "files.store" .* did not finish within 200 ms/)
      return true
    })
    await connectionClosed
    await stream.wasDestroyed
  })

  test('a timeout closes the file a fileFromPath argument had opened before the call rejects', async () => {
    const { server } = await stallingServer(MiB)
    await assert.rejects(createClient(server.url, { timeout: 300 }).files.store(fileFromPath(bigFile)), TransportError)
    assert.deepEqual(openDescriptors(bigFile), [])
  })

  test('a timeout also applies while waiting for the answer after the upload', async () => {
    const { server, connectionClosed } = await silentServer()
    await assert.rejects(createClient(server.url).$call('slow', [], { timeout: 100 }),
      (err: unknown) => err instanceof TransportError && err.kind === 'timeout')
    await connectionClosed
  })

  test('aborting mid-upload rejects with an aborted TransportError carrying the reason, and closes the file being sent', async () => {
    const { server, stalled } = await stallingServer(MiB)
    const controller = new AbortController()
    const call = createClient(server.url).$with({ signal: controller.signal }).files.store(fileFromPath(bigFile))
    await stalled
    assert.equal(openDescriptors(bigFile).length, 1, 'the file is open while its part is being sent')
    const reason = new Error('user pressed cancel')
    controller.abort(reason)
    await assert.rejects(call, (err: unknown) => {
      assert.ok(err instanceof TransportError)
      assert.equal(err.kind, 'aborted')
      assert.equal(err.cause, reason)
      return true
    })
    assert.deepEqual(openDescriptors(bigFile), [])
  })

  test('a signal that is already aborted rejects before anything is sent or opened', async () => {
    const server = await serve()
    const count = server.requests.length
    const stream = createReadStream(bigFile)
    await assert.rejects(createClient(server.url).$call('files.store', [stream], { signal: AbortSignal.abort() }),
      (err: unknown) => err instanceof TransportError && err.kind === 'aborted')
    assert.equal(server.requests.length, count)
    assert.equal(stream.destroyed, true, 'a stream handed to the call belongs to it')
  })

  test('an AbortSignal.timeout() counts as a timeout', async () => {
    const { server } = await stallingServer(0)
    await assert.rejects(createClient(server.url).$call('slow', [], { signal: AbortSignal.timeout(100) }),
      (err: unknown) => err instanceof TransportError && err.kind === 'timeout')
  })

  test('a client-wide signal still applies to a call that brings its own', async () => {
    const { server, stalled } = await stallingServer(0)
    const shutdown = new AbortController()
    const api = createClient(server.url, { signal: shutdown.signal })
    const call = api.$with({ signal: new AbortController().signal }).slow()
    await stalled
    shutdown.abort()
    await assert.rejects(call, (err: unknown) => err instanceof TransportError && err.kind === 'aborted')
  })
})

describe('an answer that arrives before the upload ends', () => {
  const limitExceeded = { jsonrpc: '2.0', id: null, error: { code: ErrorCode.LIMIT_EXCEEDED, message: 'file part "f0" exceeded the 1 MiB limit (limits.fileSize)', data: { limit: 'fileSize', max: MiB } } }

  test('rejects with the server\'s RpcError and stops uploading, destroying the stream it was reading', async () => {
    const server = await serve(({ req, res }) => {
      req.once('data', () => {
        sendEnvelope(res, 413, limitExceeded)
        req.resume() // keeps draining, as a polite server does
      })
    })
    const stream = endless()
    await assert.rejects(createClient(server.url).files.store(stream), (err: unknown) => {
      assert.ok(err instanceof RpcError)
      assert.equal(err.code, ErrorCode.LIMIT_EXCEEDED)
      assert.deepEqual(err.data, { limit: 'fileSize', max: MiB })
      return true
    })
    await stream.wasDestroyed
  })

  test('the RpcError wins when the server resets the connection right after answering, failing the upload\'s writes', { timeout: 120_000 }, async () => {
    const child = fork(fileURLToPath(new URL('./support/abrupt-server.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] })
    try {
      const [port] = await once(child, 'message') as [number]
      const api = createClient(`http://127.0.0.1:${port}/rpc`)
      // The reset races the client's writes; without care most attempts end in "write EPIPE", so a hundred
      // attempts catch a regression.
      for (let attempt = 1; attempt <= 100; attempt++) {
        await assert.rejects(api.files.store(endless()), (err: unknown) => {
          assert.ok(err instanceof RpcError, `attempt ${attempt}: expected the server's RpcError, got ${String(err)}`)
          assert.equal(err.code, ErrorCode.LIMIT_EXCEEDED)
          return true
        })
      }
    } finally {
      child.disconnect()
    }
  })

  test('the RpcError wins when the server stops reading and answers while the client is blocked writing', async () => {
    const server = await serve(({ req, res }) => {
      req.once('data', () => {
        req.pause()
        setImmediate(() => sendEnvelope(res, 413, limitExceeded))
      })
    })
    await assert.rejects(createClient(server.url).files.store(fileFromPath(bigFile)), (err: unknown) => err instanceof RpcError && err.code === ErrorCode.LIMIT_EXCEEDED)
    assert.deepEqual(openDescriptors(bigFile), [])
  })
})

describe('files that cannot be read', () => {
  test('a missing path rejects naming the path and where it was in params, and sends nothing', async () => {
    const server = await serve()
    const count = server.requests.length
    const missing = join(dir, 'no-such-file.pdf')
    await assert.rejects(createClient(server.url).files.store({ doc: fileFromPath(missing) }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ENOENT')
      assert.ok(err.message.includes(missing))
      assert.match(err.message, /params\[0\]\.doc/)
      return true
    })
    assert.equal(server.requests.length, count)
  })

  test('an fs.ReadStream that fails to open rejects the call instead of crashing the process', async () => {
    const server = await serve()
    await assert.rejects(createClient(server.url).files.store({ doc: createReadStream(join(dir, 'absent.txt')) }),
      (err: Error) => /params\[0\]\.doc/.test(err.message) && (err.cause as NodeJS.ErrnoException).code === 'ENOENT')
  })

  test('a stream that fails midway rejects with its error, and the server sees the request cut off', async () => {
    let serverFailed!: (failed: boolean) => void
    const sawFailure = new Promise<boolean>((resolve) => { serverFailed = resolve })
    const server = await serve(({ received }) => { received.then(() => serverFailed(false), () => serverFailed(true)) })
    // 2.5 MiB before the failure: more than the client gathers before its first write, so the request is under way.
    let n = 0
    const failing = new Readable({
      read () {
        if (++n <= 40) this.push(Buffer.alloc(64 * 1024))
        else this.destroy(new Error('disk on fire'))
      }
    })
    await assert.rejects(createClient(server.url).files.store([failing]), (err: Error) => {
      assert.match(err.message, /reading the file passed at params\[0\]\[0\] \(part "f0"\) failed: disk on fire/)
      return true
    })
    assert.equal(await sawFailure, true, 'the server must not see a complete body')
  })

  test('a stream that was already read to its end is refused with what to do', async () => {
    const server = await serve()
    const used = Readable.from(['x'])
    for await (const _ of used) { /* drain it */ }
    await assert.rejects(createClient(server.url).files.store(used), /already .*read to its end.*fresh stream/)
  })

  test('an upload progress listener that throws fails the call with its error', async () => {
    const server = await serve()
    const bug = new Error('bug in the progress bar')
    await assert.rejects(createClient(server.url).$call('files.store', [Buffer.alloc(1000)], { onUploadProgress: () => { throw bug } }),
      (err: unknown) => err === bug)
  })
})

describe('connections and headers', () => {
  test('successive calls reuse one keep-alive connection', async () => {
    const server = await serve()
    const api = createClient(server.url)
    await api.echo(1)
    await api.files.store(Buffer.from('x'))
    await api.echo(3)
    const connections = server.requests.map((r) => r.connection)
    assert.equal(new Set(connections).size, 1, `connections used: ${connections.join(', ')}`)
  })

  test('a call whose upload was cut short does not leave its connection to the next call', async () => {
    const server = await serve(({ req, res, received }) => {
      if (req.headers['x-formcall-method'] === 'big') {
        req.once('data', () => sendEnvelope(res, 413, { jsonrpc: '2.0', id: null, error: { code: ErrorCode.LIMIT_EXCEEDED, message: 'too big' } }))
      } else {
        // A result answers the call only with its id (PROTOCOL.md 5.7).
        void received.then(({ call }) => sendEnvelope(res, 200, { jsonrpc: '2.0', id: call.id, result: 'fine' }))
      }
    })
    const api = createClient(server.url)
    await assert.rejects(api.big(endless()), RpcError)
    assert.equal(await api.small(), 'fine')
  })

  test('sends client headers and per-call headers, the call\'s winning regardless of case', async () => {
    const server = await serve()
    const api = createClient(server.url, { headers: { Authorization: 'Bearer client', 'X-Tenant': 'a' } })
    await api.$with({ headers: { authorization: 'Bearer call' } }).echo('hi')
    const { headers } = server.requests.at(-1) ?? assert.fail('no request')
    assert.equal(headers.authorization, 'Bearer call')
    assert.equal(headers['x-tenant'], 'a')
  })

  test('a caller\'s Content-Type, Content-Length or Transfer-Encoding header cannot contradict the body', async () => {
    const server = await serve()
    const api = createClient(server.url, { headers: { 'Content-Type': 'text/plain', 'Content-Length': '3', 'Transfer-Encoding': 'gzip' } })
    await api.files.store(Readable.from([Buffer.from('a body longer than three bytes')]))
    const request = server.requests.at(-1) ?? assert.fail('no request')
    assert.match(request.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/)
    assert.equal(request.headers['content-length'], undefined)
    assert.equal(request.headers['transfer-encoding'], 'chunked')
    assert.equal(request.parts[0]?.text, 'a body longer than three bytes')
  })

  test('a method name that a header cannot carry is still called, without the X-Formcall-Method header', async () => {
    const server = await serve()
    await createClient(server.url).$call('grüße.senden', ['hi'])
    const request = server.requests.at(-1) ?? assert.fail('no request')
    assert.equal(request.call.method, 'grüße.senden')
    assert.equal(request.headers['x-formcall-method'], undefined)
  })
})
