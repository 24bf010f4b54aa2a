/**
 * A download sends exactly the bytes its headers promise, or visibly fails: a declared size the source disagrees with,
 * a file that changes between `downloadFile()`'s stat and its read, and a source that fails must never leave a
 * keep-alive connection out of step (the next response read as the rest of a body, or a body's extra bytes read as the
 * next response), and a download that fails before its first byte is answered with a plain JSON error, not one dressed
 * as the file. Every case runs with the methods inline and in a worker, where the bytes cross a MessagePort first.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ErrorCode } from '@formcall/spec'
import { sha256 } from './support/bytes.js'
import { CHUNK_SIZE, generatedSha256 } from './support/pool-bytes.js'
import { startPoolServer, type PoolServer } from './support/pool-server.js'

/** A response read off a keep-alive connection. */
interface WireResponse {
  status: number
  /** Header names lower-cased. */
  headers: Record<string, string>
  /** The body as far as it arrived, de-chunked. */
  body: Buffer
  chunked: boolean
  /** The body arrived whole: all of its Content-Length, or its terminating zero-length chunk. */
  complete: boolean
}

/**
 * One client connection that stays open between requests, reading each response by its own framing exactly as an
 * HTTP client does: bytes past a response's end are the start of the next response.
 */
class KeepAliveConnection {
  readonly #socket: Socket
  readonly #host: string
  #buffer = Buffer.alloc(0)
  #closed = false
  #wake: (() => void) | undefined

  private constructor (socket: Socket, host: string) {
    this.#socket = socket
    this.#host = host
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk])
      this.#wake?.()
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      this.#closed = true
      this.#wake?.()
    })
  }

  static async open (url: string): Promise<KeepAliveConnection> {
    const { hostname, port, host } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port) })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new KeepAliveConnection(socket, host)
  }

  /** The server closed the connection (or it broke). */
  get closed (): boolean { return this.#closed }

  /** POSTs one JSON call, asking to keep the connection open. */
  send (call: unknown): void {
    const body = JSON.stringify(call)
    this.#socket.write(`POST /rpc HTTP/1.1\r\nHost: ${this.#host}\r\nConnection: keep-alive\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }

  /**
   * The next response: once it is complete, or once the connection closed or sent nothing for `stallMs` (then
   * `complete` is false). Throws when the bytes are not a response head at all: the connection is out of step.
   */
  async read (stallMs = 3000): Promise<WireResponse | undefined> {
    for (;;) {
      const parsed = this.#parse()
      if (parsed !== undefined && parsed.complete) return parsed
      if (this.#closed) return parsed
      const arrived = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), stallMs)
        this.#wake = () => {
          clearTimeout(timer)
          resolve(true)
        }
      })
      this.#wake = undefined
      if (!arrived) return parsed
    }
  }

  close (): void { this.#socket.destroy() }

  /** Parses the response at the start of the buffer; consumes it if it is complete. */
  #parse (): WireResponse | undefined {
    const bytes = this.#buffer
    if (bytes.length === 0) return undefined
    const prefix = 'HTTP/1.1 '
    const seen = Math.min(bytes.length, prefix.length)
    if (bytes.subarray(0, seen).toString('latin1') !== prefix.slice(0, seen)) {
      throw new Error(`the connection is out of step: expected a response, got ${JSON.stringify(bytes.subarray(0, 40).toString('latin1'))}`)
    }
    const headEnd = bytes.indexOf('\r\n\r\n')
    if (headEnd < 0) return undefined
    const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n')
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1])
    const rest = bytes.subarray(headEnd + 4)
    const chunked = /chunked/i.test(headers['transfer-encoding'] ?? '')
    let body: Buffer
    let used: number
    let complete: boolean
    if (chunked) {
      ({ body, used, complete } = dechunk(rest))
    } else {
      const length = Number(headers['content-length'] ?? 0)
      complete = rest.length >= length
      body = rest.subarray(0, length)
      used = body.length
    }
    if (complete) this.#buffer = rest.subarray(used)
    return { status, headers, body, chunked, complete }
  }
}

/** De-chunks as much of a chunked body as has arrived. */
function dechunk (bytes: Buffer): { body: Buffer, used: number, complete: boolean } {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at)
    if (lineEnd < 0) return { body: Buffer.concat(out), used: at, complete: false }
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16)
    const start = lineEnd + 2
    if (size === 0) {
      const complete = bytes.length >= start + 2
      return { body: Buffer.concat(out), used: start + 2, complete }
    }
    out.push(bytes.subarray(start, Math.min(bytes.length, start + size)))
    if (start + size + 2 > bytes.length) return { body: Buffer.concat(out), used: at, complete: false }
    at = start + size + 2
  }
}

const KiB = 1024
const MiB = 1024 * KiB
const FILE_SIZE = 3 * MiB + 17

let nextId = 1

/** A download that goes wrong after its first byte: the method and params, and what the client must be left with. */
interface CutCase {
  what: string
  method: string
  params: (file: string) => unknown[]
  /** How the cut response is framed. */
  framing: 'content-length' | 'chunked'
}

// The over-sized streams declare 2 MiB, more than a worker moves in one batch (it coalesces a download's chunks), so
// their first bytes are on the wire, in both modes, by the time the excess shows; a stream whose excess is within
// its first bytes is answered with a JSON error instead (EARLY_FAILURES).
const CUT_CASES: CutCase[] = [
  { what: 'a stream with a chunk more than its declared size', method: 'downloads.misSized', params: () => [33 * CHUNK_SIZE, 32 * CHUNK_SIZE], framing: 'content-length' },
  { what: 'a stream with one byte more than its declared size', method: 'downloads.misSized', params: () => [32 * CHUNK_SIZE + 1, 32 * CHUNK_SIZE], framing: 'content-length' },
  { what: 'a stream a chunk short of its declared size', method: 'downloads.misSized', params: () => [2 * CHUNK_SIZE, 3 * CHUNK_SIZE], framing: 'content-length' },
  { what: 'a stream one byte short of its declared size', method: 'downloads.misSized', params: () => [2 * CHUNK_SIZE - 1, 2 * CHUNK_SIZE], framing: 'content-length' },
  { what: 'a downloadFile() whose file grew after its stat', method: 'downloads.changedFile', params: (file) => [file, FILE_SIZE + 1000], framing: 'content-length' },
  { what: 'a downloadFile() whose file shrank after its stat', method: 'downloads.changedFile', params: (file) => [file, 1 * MiB], framing: 'content-length' },
  { what: 'a sized stream that fails half-way', method: 'downloads.failAfter', params: () => [2 * CHUNK_SIZE, 4 * CHUNK_SIZE], framing: 'content-length' },
  { what: 'a chunked stream that fails half-way', method: 'downloads.failAfter', params: () => [2 * CHUNK_SIZE], framing: 'chunked' }
]

/** A download that goes wrong before its first byte could be sent. */
interface EarlyFailureCase {
  what: string
  method: string
  params: (file: string) => unknown[]
  /** Part of the error's message. */
  message: RegExp
}

const EARLY_FAILURES: EarlyFailureCase[] = [
  { what: 'a named, typed, sized stream that fails before its first byte', method: 'downloads.failAfter', params: () => [0, 100], message: /disk went away/ },
  { what: 'a chunked stream that fails before its first byte', method: 'downloads.failAfter', params: () => [0], message: /disk went away/ },
  { what: 'an empty stream declared as 10 bytes', method: 'downloads.misSized', params: () => [0, 10], message: /declared as 10 bytes .* ended after 0 bytes/ },
  { what: 'a stream whose first chunk is already more than its declared size', method: 'downloads.misSized', params: () => [CHUNK_SIZE, 1000], message: /declared as 1000 bytes .* more than 1000 bytes/ },
  { what: 'a downloadFile() whose file was emptied after its stat', method: 'downloads.changedFile', params: (file) => [file, 0], message: /ended after 0 bytes/ }
]

for (const isolation of ['inline', 'worker'] as const) {
  describe(`download integrity (${isolation})`, () => {
    let server: PoolServer
    let dir = ''
    let files = 0

    /** A fresh file of FILE_SIZE bytes for one call (the changedFile method truncates it). */
    const freshFile = async (): Promise<string> => {
      const path = join(dir, `file-${files++}.bin`)
      await writeFile(path, Buffer.alloc(FILE_SIZE, 7))
      return path
    }

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'formcall-download-integrity-'))
      server = await startPoolServer({ isolation, workers: 2 })
    })
    after(async () => {
      await server.close()
      await rm(dir, { recursive: true, force: true })
    })

    test('a download whose size is right arrives whole and the next response on the connection is right too', async () => {
      const connection = await KeepAliveConnection.open(server.url)
      try {
        connection.send({ method: 'downloads.misSized', params: [2 * CHUNK_SIZE, 2 * CHUNK_SIZE], id: nextId++ })
        const first = await connection.read()
        assert.ok(first?.complete, 'the download arrived whole')
        assert.equal(first.headers['content-length'], String(2 * CHUNK_SIZE))
        assert.equal(sha256(first.body), generatedSha256(2 * CHUNK_SIZE))
        connection.send({ method: 'echo', params: ['next'], id: 'next' })
        const second = await connection.read()
        assert.ok(second?.complete)
        assert.deepEqual(JSON.parse(second.body.toString()), { jsonrpc: '2.0', id: 'next', result: 'next' })
      } finally {
        connection.close()
      }
    })

    for (const row of CUT_CASES) {
      test(`${row.what} is cut off, so the client sees a broken download and the connection never goes out of step`, async () => {
        const params = row.params(await freshFile())
        const connection = await KeepAliveConnection.open(server.url)
        try {
          connection.send({ method: row.method, params, id: nextId++ })
          const first = await connection.read()
          // A second request on the same connection, if the server left it open: its answer must not be corrupted
          // (read as the rest of the download, or preceded by the download's extra bytes).
          let second: WireResponse | undefined
          if (!connection.closed) {
            connection.send({ method: 'echo', params: ['next'], id: 'next' })
            second = await connection.read()
            assert.deepEqual(JSON.parse(second?.body.toString() ?? ''), { jsonrpc: '2.0', id: 'next', result: 'next' },
              'the answer to the next request on the connection')
          }
          assert.ok(first !== undefined, 'the download started')
          assert.equal(first.status, 200)
          assert.equal(first.headers['x-formcall-download'], '1')
          if (row.framing === 'chunked') assert.equal(first.chunked, true)
          else assert.ok(first.headers['content-length'] !== undefined, 'sent with Content-Length')
          assert.equal(first.complete, false, `a broken download must not look complete (${first.body.length} bytes arrived)`)
          assert.ok(first.body.length > 0, 'it was cut after its first bytes, not answered as an error')
          if (row.framing === 'content-length') assert.ok(first.body.length < Number(first.headers['content-length']))
          assert.equal(second, undefined, 'the server closed the connection after the broken download')
        } finally {
          connection.close()
        }
        // The server is still fine for the next client.
        assert.equal((await server.call('echo', 'after')).body.result, 'after')
      })
    }

    for (const row of EARLY_FAILURES) {
      test(`${row.what} is answered with a plain JSON error, without the download's headers, and the connection stays usable`, async () => {
        const params = row.params(await freshFile())
        const connection = await KeepAliveConnection.open(server.url)
        try {
          const id = nextId++
          connection.send({ method: row.method, params, id })
          const response = await connection.read()
          assert.ok(response?.complete, 'the error arrived whole')
          assert.equal(response.status, 500)
          assert.match(response.headers['content-type'] ?? '', /^application\/json/)
          assert.equal(response.headers['x-formcall-download'], undefined, 'no X-Formcall-Download: a client would save the error as the file')
          assert.equal(response.headers['content-disposition'], undefined, 'no Content-Disposition')
          assert.equal(response.headers['content-length'], String(response.body.length), 'the Content-Length is the error\'s own')
          const envelope = JSON.parse(response.body.toString())
          assert.equal(envelope.id, id)
          assert.equal(envelope.error.code, ErrorCode.METHOD_RAISED)
          assert.match(envelope.error.message, row.message)
          connection.send({ method: 'echo', params: ['next'], id: 'next' })
          const second = await connection.read()
          assert.deepEqual(JSON.parse(second?.body.toString() ?? ''), { jsonrpc: '2.0', id: 'next', result: 'next' })
        } finally {
          connection.close()
        }
      })
    }
  })
}
