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
import { createServer } from '@formcall/server'
import type { FastifyInstance } from 'fastify'
import { curl } from './support/curl.js'
import { EARLY_ANSWERS, earlyAnswerMethods, earlyAnswersToBrowserClient, earlyAnswersToNodeClient } from './support/early-answers.js'
import { randomContent } from './support/bytes.js'
import { buildClientBundle, CLIENT_PAGE } from './support/browser-client-page.js'
import { launchBrowser, type TestBrowser } from './support/browser.js'

const TRIES = 200
/** Bigger than loopback's socket buffers, so the client is still writing when the answer comes. */
const BODY_BYTES = 24 * 1024 * 1024
const FILE_LIMIT = 4 * 1024 * 1024

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
    app = createServer({ methods: earlyAnswerMethods('direct'), tmpDir: dir, limits: { fileSize: FILE_LIMIT }, fastify: { logger: false } })
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
    const lost: string[] = []
    const kinds = [...EARLY_ANSWERS, { what: 'the json part after the file', method: 'digest', code: -32600 }]
    for (let i = 0; i < TRIES; i++) {
      const kind = kinds[i % kinds.length] as typeof kinds[number]
      const call = `json=${JSON.stringify({ method: kind.method, params: [{ $file: 'f' }] })}`
      const form = kind.code === -32600
        ? ['-F', `f=@${bigFile}`, '--form-string', call]
        : ['--form-string', call, '-F', `f=@${bigFile}`]
      // `Expect:` turns off curl's 100-continue wait, so the body is on its way when the answer comes.
      const { stdout, stderr, code } = await curl(['-H', 'Expect:', ...form, url])
      let answered = false
      try { answered = JSON.parse(stdout).error.code === kind.code } catch {}
      if (!answered) lost.push(`${kind.what}: exit ${code}, ${stderr.trim()} ${stdout.slice(0, 100)}`)
    }
    assert.deepEqual({ tries: TRIES, lost: lost.length }, { tries: TRIES, lost: 0 }, lost.slice(0, 5).join('\n'))
  })

  it(`the Node client gets every early answer as its RpcError in ${TRIES} tries`, async () => {
    const { tries, lost } = await earlyAnswersToNodeClient(url, bigFile, TRIES)
    assert.deepEqual({ tries, lost: lost.length }, { tries: TRIES, lost: 0 }, lost.slice(0, 5).join('\n'))
  })

  describe('in Chromium', () => {
    let browser: TestBrowser
    before(async () => { browser = await launchBrowser() })
    after(async () => await browser.close())

    it(`the browser client gets every early answer as its RpcError in ${TRIES} tries`, async () => {
      const page = await browser.openPage(`${origin}/`)
      const { tries, lost } = await earlyAnswersToBrowserClient(page, url, BODY_BYTES, TRIES)
      assert.deepEqual({ tries, lost: lost.length }, { tries: TRIES, lost: 0 }, lost.slice(0, 5).join('\n'))
    })
  })

  it('a client that sends its whole body and then shuts down its sending side still gets the early answer (50 tries)', async () => {
    const { port } = new URL(url)
    const boundary = 'halfclose'
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="json"\r\n\r\n{"method":"refuse","params":[{"$file":"f"}]}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="f.bin"\r\n\r\n`),
      Buffer.alloc(2 * 1024 * 1024),
      Buffer.from(`\r\n--${boundary}--\r\n`)
    ])
    const lost: string[] = []
    for (let i = 0; i < 50; i++) {
      const received = await new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1')
        let text = ''
        socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1') })
        socket.on('error', () => {})
        socket.on('close', () => resolve(text))
        socket.write(`POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
          `Content-Length: ${body.length}\r\n\r\n`)
        socket.end(body)
      })
      if (!received.includes('"code":4001')) lost.push(received.slice(0, 120) || '(nothing)')
    }
    assert.deepEqual(lost, [])
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
