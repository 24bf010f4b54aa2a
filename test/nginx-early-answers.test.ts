/**
 * EARLY ANSWERS THROUGH NGINX. An answer a formcall instance sends before the upload has ended (the method threw
 * before reading its file, an unknown method with a file attached, a file over the fileSize limit) must reach the
 * client through nginx (docs/deploy.md's configuration), and must not count as a failed attempt against the instance:
 * no answer lost, no 502, nothing about the upstream in nginx's error log, and afterwards both instances still take
 * calls (nginx marked neither down). This depends on the server's lingering close after an early answer
 * (server/src/route/handle-multipart-call.ts, server/src/respond/lingering-close.ts): closing at once makes the kernel
 * reset the connection while nginx is still sending the body, and nginx answers 502 in the instance's place.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { curl } from './support/curl.js'
import { EARLY_ANSWERS, earlyAnswerMethods, earlyAnswersToBrowserClient, earlyAnswersToNodeClient } from './support/early-answers.js'
import { launchBrowser, type TestBrowser } from './support/browser.js'
import { buildClientBundle, CLIENT_PAGE } from './support/browser-client-page.js'
import { documentedConfig, renderDocumentedConfig, startNginx, type RunningNginx } from './support/nginx.js'
import { generatedChunks } from './support/pool-bytes.js'
import { startServer, type RunningServer } from './support/start-server.js'

const MiB = 1024 * 1024
/** Tries of each kind of early answer. */
const TRIES = 200
/** Each try's upload: far more than the socket buffers of nginx and loopback hold, so the client is still sending. */
const UPLOAD_BYTES = 20 * MiB
const FILE_LIMIT = 4 * MiB
/** curl processes at once: nginx sees concurrent uploads to both instances. */
const CONCURRENCY = 4

const KINDS = EARLY_ANSWERS

/** How the tries of one kind ended. */
interface Tally {
  tries: number
  /** No JSON envelope received (curl failed, or a body that is not formcall's). */
  lost: number
  /** nginx answered 502 Bad Gateway in the instance's place. */
  badGateway: number
  /** An envelope with another code than expected. */
  wrongCode: number
  /** A few of the failures, for the report. */
  examples: string[]
}

describe('early answers through nginx (needs the server\'s lingering close after an early answer)', () => {
  let a: RunningServer
  let b: RunningServer
  let nginx: RunningNginx
  let dir: string
  let upload: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'formcall-nginx-early-'))
    upload = join(dir, 'upload.bin')
    await writeFile(upload, Buffer.concat([...generatedChunks(UPLOAD_BYTES)]))
    a = await startServer({ methods: earlyAnswerMethods('a'), limits: { fileSize: FILE_LIMIT }, trustProxy: '127.0.0.1' })
    b = await startServer({ methods: earlyAnswerMethods('b'), limits: { fileSize: FILE_LIMIT }, trustProxy: '127.0.0.1' })
    const config = await documentedConfig()
    nginx = await startNginx({
      http: ({ port, pages }) => renderDocumentedConfig(config, { port, pages, upstreams: [a, b].map((server) => `127.0.0.1:${server.port}`) }),
      // The browser's page comes through the same nginx: its calls are same-origin.
      pages: { 'index.html': CLIENT_PAGE, 'formcall.js': await buildClientBundle() }
    })
  })
  after(async () => {
    await nginx?.stop()
    await a?.close()
    await b?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it(`${TRIES} uploads of each kind answered early all get their JSON answer through nginx: none lost, no 502, no upstream failure logged, both instances up after`, async () => {
    const tallies = new Map(KINDS.map((kind) => [kind.method, { tries: 0, lost: 0, badGateway: 0, wrongCode: 0, examples: [] } as Tally]))
    // Interleaved, so that every kind runs beside the others.
    const order = Array.from({ length: TRIES }, () => KINDS).flat()
    let next = 0
    const worker = async (): Promise<void> => {
      for (;;) {
        const kind = order[next++]
        if (kind === undefined) return
        const tally = tallies.get(kind.method) as Tally
        tally.tries++
        const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: kind.method, params: [{ $file: 'f' }] })
        const result = await curl(['-o', '-', '-w', '\n%{http_code}', '--form-string', `json=${call}`, '-F', `f=@${upload};type=application/octet-stream`, `${nginx.origin}/rpc`])
        const newline = result.stdout.lastIndexOf('\n')
        const status = Number(result.stdout.slice(newline + 1))
        const body = result.stdout.slice(0, Math.max(0, newline))
        let code: unknown
        try {
          code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code
        } catch {}
        const failure = (what: string): void => { if (tally.examples.length < 3) tally.examples.push(`${what} (curl exit ${result.code}, HTTP ${status}: ${result.stderr.trim() || body.slice(0, 80)})`) }
        if (status === 502) tally.badGateway++
        if (code === undefined) {
          tally.lost++
          failure('no envelope')
        } else if (code !== kind.code) {
          tally.wrongCode++
          failure(`code ${String(code)}`)
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))

    // Plain calls afterwards: nginx still sends calls to both instances (it marked neither as failed).
    const names = new Set<string>()
    for (let i = 0; i < 8; i++) {
      const result = await curl(['-H', 'content-type: application/json', '--data-binary', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'whoami' }), `${nginx.origin}/rpc`])
      const answer = JSON.parse(result.stdout) as { result?: string }
      if (answer.result !== undefined) names.add(answer.result)
    }
    const upstreamErrors = (await nginx.errorLog()).split('\n').filter((line) => /upstream/.test(line))

    for (const kind of KINDS) {
      const tally = tallies.get(kind.method) as Tally
      console.log(`# through nginx, ${kind.what}: ${tally.tries} tries, ${tally.lost} lost, ${tally.badGateway} answered 502, ` +
        `${tally.wrongCode} with another code${tally.examples.length > 0 ? `; e.g. ${tally.examples.join('; ')}` : ''}`)
    }
    console.log(`# nginx error log: ${upstreamErrors.length} lines about the upstream${upstreamErrors.length > 0 ? `, e.g. ${upstreamErrors.slice(0, 3).join(' | ')}` : ''}`)
    console.log(`# afterwards, plain calls reached: ${[...names].sort().join(', ')}`)

    assert.deepEqual(KINDS.map((kind) => ({ kind: kind.what, ...tallies.get(kind.method), examples: undefined })),
      KINDS.map((kind) => ({ kind: kind.what, tries: TRIES, lost: 0, badGateway: 0, wrongCode: 0, examples: undefined })))
    assert.deepEqual(upstreamErrors, [])
    assert.deepEqual([...names].sort(), ['a', 'b'])
  })
  /** Checks nginx kept both instances: nothing about the upstream in its log, plain calls reach a and b. */
  const assertBothInstancesUp = async (): Promise<void> => {
    const names = new Set<string>()
    for (let i = 0; i < 8; i++) {
      const result = await curl(['-H', 'content-type: application/json', '--data-binary', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'whoami' }), `${nginx.origin}/rpc`])
      const answer = JSON.parse(result.stdout) as { result?: string }
      if (answer.result !== undefined) names.add(answer.result)
    }
    assert.deepEqual((await nginx.errorLog()).split('\n').filter((line) => /upstream/.test(line)), [])
    assert.deepEqual([...names].sort(), ['a', 'b'])
  }

  it(`the Node client gets every early answer through nginx as its RpcError in ${TRIES} tries`, async () => {
    const { lost } = await earlyAnswersToNodeClient(`${nginx.origin}/rpc`, upload, TRIES)
    console.log(`# through nginx, the Node client: ${TRIES} tries, ${lost.length} lost`)
    assert.deepEqual({ tries: TRIES, lost: lost.length }, { tries: TRIES, lost: 0 }, lost.slice(0, 5).join('\n'))
    await assertBothInstancesUp()
  })

  describe('in Chromium', () => {
    let browser: TestBrowser
    before(async () => { browser = await launchBrowser() })
    after(async () => await browser?.close())

    it(`the browser client on a page served through nginx gets every early answer in ${TRIES} tries`, async () => {
      const page = await browser.openPage(`${nginx.origin}/`)
      const { tries, lost } = await earlyAnswersToBrowserClient(page, '/rpc', UPLOAD_BYTES, TRIES)
      console.log(`# through nginx, the browser client: ${tries} tries, ${lost.length} lost`)
      assert.deepEqual({ tries, lost: lost.length }, { tries: TRIES, lost: 0 }, lost.slice(0, 5).join('\n'))
      await assertBothInstancesUp()
    })
  })
})
