// An answer the server sends before the request body has ended (the method threw before reading, an unknown method
// with a file attached, the json part not first, a limit hit mid-upload) must reach the client that is still sending:
// 200 tries each with curl, the Node client and the browser client, none lost. The server then closes the connection
// with a lingering close (PROTOCOL.md section 5.6); closing at once made the kernel reset the connection and the
// client lose the answer ("curl: (55) Send failure: Broken pipe", nginx's 502).
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createServer, RpcError, type UploadedFile } from '@formcall/server'
import { createClient, fileFromPath, isRpcError } from '@formcall/client-node'
import type { FastifyInstance } from 'fastify'
import { curl } from './support/curl.js'
import { randomContent } from './support/bytes.js'
import { buildClientBundle, CLIENT_PAGE } from './support/browser-client-page.js'
import { launchBrowser, type TestBrowser } from './support/browser.js'

const TRIES = 200
/** Bigger than loopback's socket buffers, so the client is still writing when the answer comes. */
const BODY_BYTES = 24 * 1024 * 1024
const FILE_LIMIT = 4 * 1024 * 1024

/** The early answers a client can provoke, with the code each must get. */
const SCENARIOS = [
  { what: 'the method throws before reading its file', method: 'refuse', code: 4001 },
  { what: 'an unknown method with a file attached', method: 'nope', code: -32601 },
  { what: 'a file over the fileSize limit', method: 'digest', code: -32004 }
] as const

const methods = {
  refuse: (_file: UploadedFile) => { throw new RpcError(4001, 'refused before reading the file') },
  digest: async (file: UploadedFile) => {
    let size = 0
    for await (const chunk of file) size += (chunk as Buffer).length
    return size
  }
}

interface Tally { tries: number, lost: number, examples: string[] }

function tally (): Tally { return { tries: 0, lost: 0, examples: [] } }

function record (into: Tally, answered: boolean, what: string): void {
  into.tries++
  if (answered) return
  into.lost++
  if (into.examples.length < 5) into.examples.push(what)
}

describe('answers sent before the upload ends reach the client', () => {
  let app: FastifyInstance
  let url: string
  let origin: string
  let dir: string
  let bigFile: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'formcall-early-'))
    bigFile = join(dir, 'big.bin')
    await writeFile(bigFile, randomContent(BODY_BYTES))
    const bundle = await buildClientBundle()
    app = createServer({ methods, tmpDir: dir, limits: { fileSize: FILE_LIMIT }, fastify: { logger: false } })
    // The browser page comes from the server's own origin, as an app's page would.
    app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(CLIENT_PAGE))
    app.get('/formcall.js', async (_request, reply) => await reply.type('text/javascript; charset=utf-8').send(bundle))
    origin = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1')
    url = `${origin}/rpc`
  })
  after(async () => {
    await app.close()
    await rm(dir, { recursive: true, force: true })
  })

  it(`curl gets every early answer in ${TRIES} tries (body sent at once, no 100-continue)`, async () => {
    const result = tally()
    const curlScenarios = [...SCENARIOS, { what: 'the json part after the file', method: 'digest', code: -32600 }]
    for (let i = 0; i < TRIES; i++) {
      const scenario = curlScenarios[i % curlScenarios.length] as typeof curlScenarios[number]
      const call = `json=${JSON.stringify({ method: scenario.method, params: [{ $file: 'f' }] })}`
      const form = scenario.code === -32600
        ? ['-F', `f=@${bigFile}`, '--form-string', call]
        : ['--form-string', call, '-F', `f=@${bigFile}`]
      // `Expect:` turns off curl's 100-continue wait, so the body is on its way when the answer comes.
      const { stdout, stderr, code } = await curl(['-H', 'Expect:', ...form, url])
      let answered = false
      try { answered = JSON.parse(stdout).error.code === scenario.code } catch {}
      record(result, answered, `${scenario.what}: exit ${code}, ${stderr.trim()} ${stdout.slice(0, 100)}`)
    }
    assert.deepEqual({ tries: result.tries, lost: result.lost }, { tries: TRIES, lost: 0 }, result.examples.join('\n'))
  })

  it(`the Node client gets every early answer as its RpcError in ${TRIES} tries`, async () => {
    const api = createClient(url) as any
    const result = tally()
    for (let i = 0; i < TRIES; i++) {
      const scenario = SCENARIOS[i % SCENARIOS.length] as typeof SCENARIOS[number]
      const outcome: unknown = await api[scenario.method](fileFromPath(bigFile)).then(() => 'resolved', (err: unknown) => err)
      record(result, isRpcError(outcome) && outcome.code === scenario.code, `${scenario.what}: ${String(outcome)}`)
    }
    assert.deepEqual({ tries: result.tries, lost: result.lost }, { tries: TRIES, lost: 0 }, result.examples.join('\n'))
  })

  describe('in Chromium', () => {
    let browser: TestBrowser
    before(async () => { browser = await launchBrowser() })
    after(async () => await browser.close())

    it(`the browser client gets every early answer as its RpcError in ${TRIES} tries`, async () => {
      const page = await browser.openPage(`${origin}/`)
      await page.waitForFunction(() => window.formcall !== undefined)
      const outcomes = await page.evaluate(async ({ rpcUrl, size, tries, scenarios }) => {
        const blob = new Blob([new Uint8Array(size)])
        const api = window.formcall.createClient(rpcUrl) as any
        const seen: string[] = []
        for (let i = 0; i < tries; i++) {
          const scenario = scenarios[i % scenarios.length] as { method: string, code: number }
          try {
            await api[scenario.method](blob)
            seen.push(`${scenario.method}: resolved`)
          } catch (err) {
            const code = (err as { code?: unknown }).code
            seen.push(code === scenario.code ? 'answered' : `${scenario.method}: ${String(err)} (code ${String(code)})`)
          }
        }
        return seen
      }, { rpcUrl: url, size: BODY_BYTES, tries: TRIES, scenarios: SCENARIOS.map(({ method, code }) => ({ method, code })) })
      const lost = outcomes.filter((outcome) => outcome !== 'answered')
      assert.deepEqual({ tries: outcomes.length, lost: lost.length }, { tries: TRIES, lost: 0 }, lost.slice(0, 5).join('\n'))
    })
  })

  it('a client that ignores the answer and keeps sending still has the whole answer when the server closes', async () => {
    const { port } = new URL(url)
    const boundary = 'early'
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="json"\r\n\r\n{"method":"refuse","params":[{"$file":"f"}]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n`
    const declared = 1024 ** 3
    const socket = connect(Number(port), '127.0.0.1')
    let received = ''
    socket.on('data', (chunk: Buffer) => { received += chunk.toString('latin1') })
    const closed = new Promise<void>((resolve) => {
      socket.on('error', () => {})
      socket.on('close', () => resolve())
    })
    socket.write(`POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
      `Content-Length: ${declared}\r\n\r\n${head}`)
    // Write 64 MiB as fast as the socket takes it, ignoring the answer, then go quiet without closing: the server
    // reads on while bytes come, and closes the connection itself once they stop.
    const chunk = Buffer.alloc(256 * 1024)
    let sent = 0
    let open = true
    void closed.then(() => { open = false })
    while (open && sent < 64 * 1024 * 1024) {
      sent += chunk.length
      if (!socket.write(chunk)) await new Promise((resolve) => { socket.once('drain', resolve); socket.once('close', resolve) })
    }
    await closed
    assert.ok(sent < declared, 'the server closed the connection, not the client by finishing its body')
    const [headers, body] = received.split('\r\n\r\n', 2) as [string, string]
    assert.match(headers, /^HTTP\/1\.1 400 /)
    assert.match(headers, /connection: close/i)
    const length = Number(/content-length: (\d+)/i.exec(headers)?.[1])
    assert.equal(Buffer.byteLength(body, 'latin1'), length, 'the whole answer arrived')
    assert.equal(JSON.parse(body).error.code, 4001)
  })
})
