/**
 * When a request body's chunks are formcall's alone, so that a worker upload may hand their memory over instead of
 * copying it: asked of real node:http requests, and carried by a session's file streams.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { request as httpRequest, createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { bodyChunksExclusive, hasExclusiveChunks } from '../src/bind/exclusive-chunks.js'
import type { UploadedFile } from '../src/bind/uploaded-file.js'
import { Rig, filePart } from './support/upload-rig.js'

/** Guards against a hang stalling the run; no test comes near it. */
const HANG = { timeout: 20_000 }

/** Sends a POST with a body; the handler sees the request as `setup` left it. */
async function askOfRequest (setup: (req: IncomingMessage) => void | Promise<void>): Promise<boolean> {
  let answer: boolean | undefined
  const server = createServer((req, res) => {
    void (async () => {
      await setup(req)
      answer = bodyChunksExclusive(req)
      req.resume()
      req.on('end', () => res.end('done'))
    })()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', headers: { 'Content-Length': '100000' } })
  req.end(Buffer.alloc(100_000, 1))
  const [res] = await once(req, 'response') as [IncomingMessage]
  res.resume()
  await once(res, 'end')
  server.close()
  assert.ok(answer !== undefined)
  return answer
}

describe('a request body is formcall\'s alone only while nobody else reads it', () => {
  const rows: Array<{ what: string, setup: (req: IncomingMessage) => void, exclusive: boolean }> = [
    { what: 'a request nothing listens to', setup: () => {}, exclusive: true },
    { what: 'a request with listeners that do not read (close, end, error)', setup: (req) => { req.on('close', () => {}); req.on('error', () => {}); req.on('end', () => {}) }, exclusive: true },
    { what: 'a \'data\' listener', setup: (req) => req.on('data', () => {}), exclusive: false },
    { what: 'a \'readable\' listener', setup: (req) => req.on('readable', () => { while (req.read() !== null); }), exclusive: false },
    { what: 'piped into a writable', setup: (req) => req.pipe(new Writable({ write (_chunk, _encoding, done) { done() } })), exclusive: false },
    { what: 'resumed', setup: (req) => req.resume(), exclusive: false },
    { what: 'paused', setup: (req) => req.pause(), exclusive: false }
  ]
  for (const row of rows) {
    it(`${row.what}: ${row.exclusive ? 'exclusive' : 'not exclusive'}`, HANG, async () => {
      assert.equal(await askOfRequest(row.setup), row.exclusive)
    })
  }

  it('a request some of whose body was read already: not exclusive', HANG, async () => {
    assert.equal(await askOfRequest(async (req) => {
      // Waits for the first body bytes without a listener (one would count by itself), then takes them.
      while (req.readableLength === 0) await new Promise((resolve) => setTimeout(resolve, 5))
      assert.notEqual(req.read(), null)
    }), false)
  })
})

describe('a session\'s file streams carry whether their chunks may be handed over', () => {
  for (const exclusive of [true, false]) {
    it(`a session with exclusiveChunks ${String(exclusive)}: its file's stream is ${exclusive ? '' : 'not '}marked`, HANG, async () => {
      const rig = await Rig.open({}, { exclusiveChunks: exclusive })
      try {
        const file = rig.bindArgs<unknown[]>([{ $file: 'a' }])[0] as UploadedFile
        const spec = filePart('a', 1000)
        const sent = rig.send([spec])
        const outcome = await rig.call(async () => {
          const bytes = await file.bytes()
          return [hasExclusiveChunks(file.stream), bytes.equals(spec.bytes)]
        })
        assert.deepEqual(outcome, { ok: true, value: [exclusive, true], started: true })
        assert.equal(await sent, 'complete')
      } finally {
        assert.deepEqual(await rig.close(), [])
      }
    })
  }
})
