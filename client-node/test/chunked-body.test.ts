import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import net, { type AddressInfo, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, test } from 'node:test'
import { createClient } from '../src/index.js'
import { BODY_GATHER_BYTES } from '../src/send/write-gatherer.js'

const KiB = 1024
const MiB = 1024 * KiB
const SOURCE_CHUNK = 64 * KiB
const SOURCE_BYTES = 24 * MiB

const sockets = new Set<Socket>()
after(() => { for (const socket of sockets) socket.destroy() })

/** A stream of `bytes` pseudo-random bytes in `chunk`-sized pieces, counting how often it was asked for more. */
class CountingSource extends Readable {
  pulls = 0
  readonly hash = createHash('sha256')
  #left: number
  readonly #chunk: number
  #seed = 1

  constructor (bytes: number, chunk: number) {
    super({ highWaterMark: chunk })
    this.#left = bytes
    this.#chunk = chunk
  }

  override _read (): void {
    this.pulls++
    if (this.#left === 0) {
      this.push(null)
      return
    }
    const piece = Buffer.allocUnsafe(Math.min(this.#chunk, this.#left))
    for (let i = 0; i < piece.length; i += 4) piece.writeUInt32LE((this.#seed = (this.#seed * 1103515245 + 12345) >>> 0), i)
    this.#left -= piece.length
    this.hash.update(piece)
    this.push(piece)
  }
}

/** The body of a raw chunked request: each chunk's size, and the payload bytes joined. */
function dechunk (body: Buffer): { sizes: number[], payload: Buffer } {
  const sizes: number[] = []
  const pieces: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at)
    assert.ok(lineEnd > at, `a chunk-size line at byte ${at}`)
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16)
    at = lineEnd + 2
    if (size === 0) break
    sizes.push(size)
    pieces.push(body.subarray(at, at + size))
    at += size
    assert.equal(body.subarray(at, at + 2).toString('latin1'), '\r\n', 'CRLF after each chunk')
    at += 2
  }
  return { sizes, payload: Buffer.concat(pieces) }
}

/**
 * A TCP server that reads nothing until `release` resolves, then reads one chunked request whole, answers it, and
 * hands over the raw body.
 */
async function holdingServer (release: Promise<void>): Promise<{ port: number, body: Promise<Buffer> }> {
  let onBody!: (body: Buffer) => void
  const body = new Promise<Buffer>((resolve) => { onBody = resolve })
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.pause()
    const received: Buffer[] = []
    void release.then(() => {
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk)
        const raw = Buffer.concat(received)
        if (!raw.subarray(-5).equals(Buffer.from('0\r\n\r\n'))) return
        const id = /"id":(\d+)/.exec(raw.toString('latin1'))?.[1]
        const answer = `{"jsonrpc":"2.0","id":${id},"result":"stored"}`
        socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${answer.length}\r\nconnection: close\r\n\r\n${answer}`)
        server.close()
        onBody(raw.subarray(raw.indexOf('\r\n\r\n') + 4))
      })
      socket.resume()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, body }
}

test('a stream of unknown length is sent in HTTP chunks gathered while the socket was busy, not one per source chunk, and arrives intact', async () => {
  const source = new CountingSource(SOURCE_BYTES, SOURCE_CHUNK)
  let onStalled!: () => void
  const stalled = new Promise<void>((resolve) => { onStalled = resolve })
  const { port, body } = await holdingServer(stalled)
  const api = createClient<{ files: { store: (file: Readable) => string } }>(`http://127.0.0.1:${port}/rpc`)
  const call = api.files.store(source)

  // The server reads nothing: once the socket buffers are full, the client stops pulling from the source.
  for (let seen = -1; seen !== source.pulls;) {
    seen = source.pulls
    await sleep(200)
  }
  assert.ok(source.pulls * SOURCE_CHUNK < SOURCE_BYTES, 'the held-back server stopped the upload mid-stream')
  onStalled()
  assert.equal(await call, 'stored')

  const { sizes, payload } = dechunk(await body)
  const fileStart = payload.indexOf('\r\n\r\n', payload.indexOf('name="f0"')) + 4
  const file = payload.subarray(fileStart, payload.lastIndexOf('\r\n--'))
  assert.equal(file.length, SOURCE_BYTES)
  assert.equal(createHash('sha256').update(file).digest('hex'), source.hash.digest('hex'))
  assert.ok(Math.max(...sizes) > SOURCE_CHUNK, `some chunk gathered several source chunks (largest ${Math.max(...sizes)} bytes)`)
  assert.ok(Math.max(...sizes) <= BODY_GATHER_BYTES + SOURCE_CHUNK, `no chunk beyond the gather size and one source chunk (largest ${Math.max(...sizes)})`)
  assert.ok(sizes.length < SOURCE_BYTES / SOURCE_CHUNK, `${sizes.length} chunks for ${SOURCE_BYTES / SOURCE_CHUNK} source chunks`)
})

test('a held-back stream of strings, Uint8Arrays and Buffers is gathered byte-exact', async () => {
  const pieces: Array<string | Uint8Array> = []
  for (let i = 0; i < 600; i++) {
    if (i % 3 === 0) pieces.push(`text piece ${i} ✓ `.repeat(200))
    else if (i % 3 === 1) pieces.push(new Uint8Array(20 * KiB).fill(i % 251))
    else pieces.push(Buffer.alloc(33 * KiB, i % 253))
  }
  const expected = Buffer.concat(pieces.map((p) => typeof p === 'string' ? Buffer.from(p) : p))
  let onRelease!: () => void
  const release = new Promise<void>((resolve) => { onRelease = resolve })
  const { port, body } = await holdingServer(release)
  const api = createClient<{ files: { store: (file: Readable) => string } }>(`http://127.0.0.1:${port}/rpc`)
  const call = api.files.store(Readable.from(pieces))
  await sleep(300)
  onRelease()
  assert.equal(await call, 'stored')
  const { sizes, payload } = dechunk(await body)
  const fileStart = payload.indexOf('\r\n\r\n', payload.indexOf('name="f0"')) + 4
  const file = payload.subarray(fileStart, payload.lastIndexOf('\r\n--'))
  assert.equal(file.length, expected.length)
  assert.ok(file.equals(expected), 'the bytes arrive as the stream yielded them')
  assert.ok(sizes.length < pieces.length, `${sizes.length} chunks for ${pieces.length} pieces`)
})
