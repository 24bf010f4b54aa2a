import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { DOWNLOAD_BRAND, ErrorCode, FILE_BRAND, isRpcError, RpcError } from '@formcall/spec'
import { createClient, DownloadedFile, TransportError, type Client } from '../src/index.js'
import { filenameFromContentDisposition } from '@formcall/spec'
import { sendEnvelope, startRecordingServer, type RecordingServer, type Responder } from './support/recording-server.js'

let dir: string
const servers: RecordingServer[] = []

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'formcall-client-decode-'))
})
after(async () => {
  await Promise.all(servers.map((s) => s.close()))
  rmSync(dir, { recursive: true, force: true })
})

/** What the server's `download()` helper returns, and its file parameter type: only the brands matter here. */
interface Download { readonly [DOWNLOAD_BRAND]: true }
interface ServerFile { readonly [FILE_BRAND]: true }
/** The methods the download tests call, so the client types their results as DownloadedFile. */
interface DownloadMethods {
  get: () => Download
  reports: { export: () => Download }
  transform: (file: ServerFile) => Promise<Download>
}

/** A client for a server that answers every call with `respond`, after reading the whole request. */
async function clientFor<M = unknown> (respond: Responder): Promise<Client<M>> {
  const server = await startRecordingServer(async (context) => {
    await context.received.catch(() => {})
    await respond(context)
  })
  servers.push(server)
  return createClient<M>(server.url)
}

const downloadsFrom = (respond: Responder): Promise<Client<DownloadMethods>> => clientFor<DownloadMethods>(respond)

/** Answers with `envelope`, echoing the call's id so it passes the id check. */
function answer (status: number, members: Record<string, unknown>): Responder {
  return async ({ res, received }) => {
    const { call } = await received
    sendEnvelope(res, status, { jsonrpc: '2.0', id: call.id, ...members })
  }
}

function download (headers: Record<string, string | number>, body: Buffer | string): Responder {
  return ({ res }) => {
    res.writeHead(200, { 'x-formcall-download': '1', ...headers })
    res.end(body)
  }
}

describe('JSON answers', () => {
  test('a result envelope resolves to its result, falsy values included', async () => {
    for (const result of [42, 'text', { a: [1, { b: null }] }, [], null, false, 0, '']) {
      const api = await clientFor(answer(200, { result }))
      assert.deepEqual(await api.anything(), result)
    }
  })

  test('an error envelope rejects with an RpcError carrying its code, message and data', async () => {
    const api = await clientFor(answer(404, { error: { code: ErrorCode.METHOD_NOT_FOUND, message: 'no method "nope"; see the methods list', data: { method: 'nope' } } }))
    await assert.rejects(api.nope(), (err: unknown) => {
      assert.ok(err instanceof RpcError)
      assert.ok(isRpcError(err))
      assert.equal(err.code, ErrorCode.METHOD_NOT_FOUND)
      assert.equal(err.codeName, 'METHOD_NOT_FOUND')
      assert.equal(err.message, 'no method "nope"; see the methods list')
      assert.deepEqual(err.data, { method: 'nope' })
      return true
    })
  })

  test('an application error code from the method arrives as is', async () => {
    const api = await clientFor(answer(400, { error: { code: 4004, message: 'no file with id "a1"' } }))
    await assert.rejects(api.files.get('a1'), (err: unknown) => err instanceof RpcError && err.code === 4004 && err.codeName === 'APPLICATION_ERROR')
  })

  test('an error envelope rejects even when the HTTP status is 200', async () => {
    const api = await clientFor(answer(200, { error: { code: -32000, message: 'boom' } }))
    await assert.rejects(api.x(), RpcError)
  })

  test('a proxy\'s HTML 502 rejects with a protocol TransportError that carries the status and quotes the page', async () => {
    const api = await clientFor(({ res }) => {
      res.writeHead(502, { 'content-type': 'text/html' })
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>')
    })
    await assert.rejects(api.echo('hi'), (err: unknown) => {
      assert.ok(err instanceof TransportError)
      assert.equal(err.kind, 'protocol')
      assert.equal(err.status, 502)
      assert.match(err.message, /HTTP 502 \(text\/html\) that is not a formcall answer.*502 Bad Gateway/)
      assert.match(err.message, /check that the URL is a formcall endpoint/)
      return true
    })
  })

  test('a large non-JSON body is not read to its end before rejecting', async () => {
    const api = await clientFor(({ res }) => {
      res.writeHead(500, { 'content-type': 'text/plain' })
      // Endless: the client must stop reading on its own.
      const page = Buffer.alloc(64 * 1024, 'x')
      Readable.from((function * () { while (true) yield page })()).pipe(res)
    })
    await assert.rejects(api.echo('hi'), (err: unknown) => err instanceof TransportError && err.kind === 'protocol' && err.status === 500)
  })

  test('JSON that is not an envelope, a malformed error, another call\'s id and an empty body are protocol errors', async () => {
    const cases: Responder[] = [
      ({ res }) => sendEnvelope(res, 200, { ok: true }),
      ({ res }) => sendEnvelope(res, 200, [{ jsonrpc: '2.0', id: 1, result: 1 }]),
      answer(500, { error: 'it broke' }),
      ({ res }) => sendEnvelope(res, 200, { jsonrpc: '2.0', id: 'someone-else', result: 1 }),
      ({ res }) => { res.writeHead(204); res.end() }
    ]
    for (const respond of cases) {
      const api = await clientFor(respond)
      await assert.rejects(api.x(), (err: unknown) => err instanceof TransportError && err.kind === 'protocol')
    }
  })

  test('an answer cut off before its end rejects with a network TransportError', async () => {
    const api = await clientFor(({ res }) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 })
      res.write('{"jsonrpc":"2.0","id":1,"res')
      setImmediate(() => res.socket?.destroy())
    })
    await assert.rejects(api.x(), (err: unknown) => err instanceof TransportError && err.kind === 'network' && /before it ended/.test(err.message))
  })
})

describe('downloads', () => {
  test('resolve to a DownloadedFile with the UTF-8 filename* preferred over the ASCII fallback, the type and the size', async () => {
    const body = 'month,total\n2026-11,€ 1.234\n'
    const api = await downloadsFrom(download({
      'content-type': 'text/csv; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'content-disposition': `attachment; filename="EUR report.csv"; filename*=UTF-8''%E2%82%AC%20report%20%E2%80%93%20%E5%A0%B1%E5%91%8A.csv`
    }, body))
    const file = await api.reports.export()
    assert.ok(file instanceof DownloadedFile)
    assert.equal(file.filename, '€ report – 報告.csv')
    assert.equal(file.type, 'text/csv; charset=utf-8')
    assert.equal(file.size, Buffer.byteLength(body))
    assert.equal(await file.text(), body)
  })

  test('give their bytes through bytes(), stream and saveTo()', async () => {
    const bytes = Buffer.alloc(300_000)
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 253
    const api = await downloadsFrom(download({ 'content-length': bytes.length, 'content-disposition': 'attachment; filename="data.bin"' }, bytes))

    assert.deepEqual(await (await api.get()).bytes(), bytes)

    const chunks: Buffer[] = []
    for await (const chunk of (await api.get()).stream) chunks.push(chunk as Buffer)
    assert.deepEqual(Buffer.concat(chunks), bytes)

    const target = join(dir, 'saved.bin')
    await (await api.get()).saveTo(target)
    assert.deepEqual(readFileSync(target), bytes)
  })

  test('without Content-Length or Content-Disposition have a null size and filename and the default type', async () => {
    const api = await downloadsFrom(({ res }) => {
      res.writeHead(200, { 'x-formcall-download': '1' })
      res.write('part one, ')
      res.end('part two')
    })
    const file = await api.get()
    assert.equal(file.size, null)
    assert.equal(file.filename, null)
    assert.equal(file.type, 'application/octet-stream')
    assert.equal(await file.text(), 'part one, part two')
  })

  test('fail when the body is cut short, saying how much arrived, and saveTo() leaves no partial file', async () => {
    const truncated: Responder = ({ res }) => {
      res.writeHead(200, { 'x-formcall-download': '1', 'content-length': 1_000_000, 'content-disposition': 'attachment; filename="big.bin"' })
      res.write(Buffer.alloc(400_000))
      setImmediate(() => res.socket?.destroy())
    }
    const api = await downloadsFrom(truncated)
    await assert.rejects((await api.get()).text(), (err: unknown) => {
      assert.ok(err instanceof TransportError)
      assert.equal(err.kind, 'network')
      assert.match(err.message, /"big\.bin" .* was cut short: \d+ of 1000000 bytes arrived/)
      return true
    })
    const target = join(dir, 'partial.bin')
    await assert.rejects((await api.get()).saveTo(target), TransportError)
    assert.equal(existsSync(target), false)
  })

  test('sent chunked fail when the connection breaks before the last chunk', async () => {
    const api = await downloadsFrom(({ res }) => {
      res.writeHead(200, { 'x-formcall-download': '1' })
      res.write(Buffer.alloc(100_000))
      setImmediate(() => res.socket?.destroy())
    })
    await assert.rejects((await api.get()).bytes(), (err: unknown) => err instanceof TransportError && err.kind === 'network')
  })

  test('can be read once, and a second read says so', async () => {
    const api = await downloadsFrom(download({ 'content-length': 3, 'content-disposition': 'attachment; filename="a.txt"' }, 'abc'))
    const file = await api.get()
    assert.equal(await file.text(), 'abc')
    await assert.rejects(file.bytes(), /download "a\.txt" was already read/)
  })

  test('stop when the call\'s signal aborts while the body streams', async () => {
    const api = await downloadsFrom(({ res }) => {
      res.writeHead(200, { 'x-formcall-download': '1', 'content-length': 10_000_000 })
      res.write(Buffer.alloc(1000))
    })
    const controller = new AbortController()
    const file = await api.$with({ signal: controller.signal }).get()
    const reading = file.bytes()
    controller.abort()
    await assert.rejects(reading, (err: unknown) => err instanceof TransportError && err.kind === 'aborted')
  })

  test('are not cut by the call timeout once their headers arrived', async () => {
    let finish!: () => void
    const finishing = new Promise<void>((resolve) => { finish = resolve })
    const api = await downloadsFrom(async ({ res }) => {
      res.writeHead(200, { 'x-formcall-download': '1', 'content-length': 6 })
      res.write('abc')
      await finishing
      res.end('def')
    })
    const file = await api.$with({ timeout: 50 }).get()
    const text = file.text()
    await sleep(200) // well past the timeout
    finish()
    assert.equal(await text, 'abcdef')
  })

  test('keep the upload going while the method streams its answer from it', async () => {
    const server = await startRecordingServer(({ req, res }) => {
      res.writeHead(200, { 'x-formcall-download': '1', 'content-type': 'application/octet-stream' })
      req.pipe(res) // answers with the raw request body as it arrives
    })
    servers.push(server)
    const size = 4 * 1024 * 1024
    const echoed = await (await createClient<DownloadMethods>(server.url).transform(Readable.from([Buffer.alloc(size, 5)]))).bytes()
    assert.ok(echoed.length > size, 'the whole upload came back')
    assert.match(echoed.subarray(-64).toString('latin1'), /--\r\n$/, 'the body ends with the closing boundary')
  })
})

describe('Content-Disposition filenames', () => {
  test('prefer filename* over filename, decode UTF-8 and ISO-8859-1, and unescape quoted strings', () => {
    assert.equal(filenameFromContentDisposition(`attachment; filename="a.txt"; filename*=UTF-8''%C3%A9t%C3%A9.txt`), 'été.txt')
    assert.equal(filenameFromContentDisposition(`attachment; filename*=iso-8859-1'en'%E9t%E9.txt`), 'été.txt')
    assert.equal(filenameFromContentDisposition('attachment; filename="say \\"hi\\".txt"'), 'say "hi".txt')
    assert.equal(filenameFromContentDisposition('attachment; filename=plain.txt'), 'plain.txt')
    assert.equal(filenameFromContentDisposition('attachment; filename="semi;colon.txt"'), 'semi;colon.txt')
  })

  test('fall back to filename when filename* is malformed, and recover raw UTF-8 sent in filename', () => {
    assert.equal(filenameFromContentDisposition(`attachment; filename="ok.txt"; filename*=UTF-8''%E2%82`), 'ok.txt')
    const latin1OfUtf8 = Buffer.from('résumé.pdf', 'utf8').toString('latin1')
    assert.equal(filenameFromContentDisposition(`attachment; filename="${latin1OfUtf8}"`), 'résumé.pdf')
  })

  test('reduce a path to its base name and return null when there is no usable name', () => {
    assert.equal(filenameFromContentDisposition('attachment; filename="../../etc/passwd"'), 'passwd')
    assert.equal(filenameFromContentDisposition('attachment; filename="C:\\\\Windows\\\\evil.dll"'), 'evil.dll')
    assert.equal(filenameFromContentDisposition('attachment; filename=".."'), null)
    assert.equal(filenameFromContentDisposition('attachment'), null)
    assert.equal(filenameFromContentDisposition(undefined), null)
  })
})
