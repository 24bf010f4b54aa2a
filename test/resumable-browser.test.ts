/**
 * Resumable uploads from a browser, end to end in Debian's Chromium: a real formcall server with `uploads` enabled on
 * 127.0.0.1, reached through a TCP proxy that cuts or holds connections at chosen byte counts; tus-js-client and the
 * formcall browser client upload Blobs made in the page, survive the cuts and a page reload, and a call binds the
 * upload and returns its SHA-256. A page of another origin is refused unless the server allows that origin.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { finished } from 'node:stream/promises'
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, afterEach, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { build } from 'vite'
import type { Rolldown } from 'vite'
import { createServer, type CreateServerOptions, type UploadedFile } from '@formcall/server'
import { launchBrowser, type TestBrowser } from './support/browser.js'
import { patternBytes, patternSource, sha256 } from './support/browser-bytes.js'
import { buildClientBundle, startClientSite, type ClientSite } from './support/browser-client-page.js'
import { digestFile } from './support/bytes.js'
import { SeededRandom } from './support/seeded-random.js'
import { waitFor } from './support/wait.js'

declare global {
  interface Window {
    formcall: typeof import('@formcall/client-browser')
    tus: typeof import('tus-js-client')
    uppy: typeof import('./support/uppy-entry.js')
    /** The upload a test started and left running in the page. */
    running?: Promise<unknown>
  }
}

const MiB = 1024 * 1024
const random = new SeededRandom(Number(process.env.FORMCALL_SEED ?? Date.now() % 2 ** 31))
console.log(`# resumable browser uploads: seed ${random.seed} (FORMCALL_SEED=${random.seed} replays the cut offsets)`)
const SIZE = 64 * MiB
const methods = {
  files: {
    digest: digestFile,
    /** A file's digest with the name and type it came with. */
    named: async (file: UploadedFile) => ({ ...await digestFile(file), filename: file.filename, type: file.type }),
    /** Digests of two files, read in order. */
    pair: async (first: UploadedFile, second: UploadedFile) => [await digestFile(first), await digestFile(second)]
  }
}
/** The methods as the page's client sees them. */
type PageMethods = { files: { digest: (file: Blob) => Digest, pair: (first: Blob, second: Blob) => [Digest, Digest] } }
interface Digest { size: number, sha256: string }

/**
 * The page: the formcall client and tus-js-client, each on `window`. Its icon is inline, so that the browser sends no
 * request of its own (for `/favicon.ico`) that a cut or hold armed for an upload could hit instead.
 */
const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>formcall resumable uploads</title>
<link rel="icon" href="data:,">
<input type="file" id="pick">
<script type="module">
  import * as formcall from './formcall.js'
  import * as tus from './tus.js'
  import * as uppy from './uppy.js'
  window.formcall = formcall
  window.tus = tus
  window.uppy = uppy
</script>
</html>
`

/** tus-js-client's browser build as one ES module for the page. */
async function buildTusBundle (): Promise<string> {
  // The package's `browser` field maps its Node entry to this one; a lib entry given by path is not remapped.
  return await buildPageModule(join(dirname(fileURLToPath(import.meta.resolve('tus-js-client'))), '../../lib.esm/browser/index.js'), 'tus')
}

/** Uppy with its Tus plugin as one ES module for the page (their browser builds, as an app bundles them). */
async function buildUppyBundle (): Promise<string> {
  return await buildPageModule(fileURLToPath(new URL('./support/uppy-entry.ts', import.meta.url)), 'uppy')
}

/** `entry` and what it imports as one ES module. */
async function buildPageModule (entry: string, name: string): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'warn',
    resolve: { conditions: ['browser', 'import', 'default'] },
    build: { lib: { entry, formats: ['es'], fileName: name }, write: false, minify: false, target: 'es2022' }
  })
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[]
  const chunk = outputs[0]?.output.find((file) => file.type === 'chunk')
  if (chunk === undefined || chunk.type !== 'chunk') throw new Error(`the Vite build of ${name} produced no JavaScript chunk`)
  return chunk.code
}

/** A formcall server with uploads in a fresh private directory, also serving the test page. */
interface UploadServer {
  readonly origin: string
  readonly port: number
  readonly directory: string
  /** Upload ids in the store (a stored upload is `<id>` plus `<id>.json`). */
  uploads: () => Promise<string[]>
  close: () => Promise<void>
}

async function startUploadServer (bundles: { formcall: string, tus: string, uppy: string }, extra: Partial<CreateServerOptions> = {}, withUploads = true): Promise<UploadServer> {
  const directory = await mkdtemp(join(tmpdir(), 'formcall-browser-uploads-'))
  const spool = await mkdtemp(join(tmpdir(), 'formcall-browser-spool-'))
  const app = createServer({ methods, tmpDir: spool, ...(withUploads ? { uploads: { directory } } : {}), fastify: { logger: false }, ...extra })
  app.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE))
  app.get('/formcall.js', async (_request, reply) => await reply.type('text/javascript; charset=utf-8').send(bundles.formcall))
  app.get('/tus.js', async (_request, reply) => await reply.type('text/javascript; charset=utf-8').send(bundles.tus))
  app.get('/uppy.js', async (_request, reply) => await reply.type('text/javascript; charset=utf-8').send(bundles.uppy))
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const port = Number(new URL(address).port)
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    directory,
    uploads: async () => (await readdir(directory)).filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -5)),
    close: async () => {
      await app.close()
      await rm(directory, { recursive: true, force: true })
      await rm(spool, { recursive: true, force: true })
    }
  }
}

/** One connection through the proxy. */
interface Pair { client: Socket, upstream: Socket, held: boolean }

/**
 * A TCP proxy in front of the server. It counts the bytes it forwards towards the server (over every connection,
 * headers included) and, at the byte counts a test arms, either cuts the connection that reaches it (forwards exactly
 * up to the count, then closes both sides, as a dropped link would) or holds it (forwards up to the count, then reads
 * nothing more from the browser, as a stalled link would) until `dropHeld()`.
 */
class CuttingProxy {
  readonly #server: TcpServer
  readonly #pairs = new Set<Pair>()
  readonly #plan: Array<{ at: number, action: 'cut' | 'hold', done: () => void }> = []
  /** Bytes forwarded towards the server so far. */
  forwarded = 0
  /** Connections cut so far. */
  cuts = 0

  private constructor (server: TcpServer) { this.#server = server }

  static async start (targetPort: number): Promise<CuttingProxy> {
    const server = createTcpServer()
    const proxy = new CuttingProxy(server)
    server.on('connection', (client) => { proxy.#connect(client, targetPort) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get port (): number { return (this.#server.address() as { port: number }).port }
  get origin (): string { return `http://127.0.0.1:${this.port}` }

  /** Cuts the connection carrying byte `forwarded + n` of each `n` given; resolves once every cut has happened. */
  async cutAfter (...offsets: number[]): Promise<void> {
    await Promise.all(offsets.map(async (n) => await this.#arm(n, 'cut')))
  }

  /** Holds the connection carrying byte `forwarded + n`; resolves once it is held. */
  async holdAfter (n: number): Promise<void> {
    await this.#arm(n, 'hold')
  }

  /** Closes the held connections. */
  dropHeld (): void {
    for (const pair of this.#pairs) if (pair.held) this.#drop(pair)
  }

  async close (): Promise<void> {
    for (const pair of this.#pairs) this.#drop(pair)
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #arm (n: number, action: 'cut' | 'hold'): Promise<void> {
    return new Promise((resolve) => {
      this.#plan.push({ at: this.forwarded + n, action, done: resolve })
      this.#plan.sort((a, b) => a.at - b.at)
    })
  }

  #connect (client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1')
    const pair: Pair = { client, upstream, held: false }
    this.#pairs.add(pair)
    client.on('data', (chunk: Buffer) => { this.#forward(pair, chunk) })
    upstream.on('data', (chunk: Buffer) => { if (!client.destroyed) client.write(chunk) })
    for (const socket of [client, upstream]) {
      socket.on('error', () => { this.#drop(pair) })
      socket.on('close', () => { this.#drop(pair) })
    }
    client.on('end', () => { upstream.end() })
    upstream.on('end', () => { client.end() })
  }

  #forward (pair: Pair, chunk: Buffer): void {
    if (pair.held) return
    const next = this.#plan[0]
    if (next === undefined || this.forwarded + chunk.length < next.at) {
      this.forwarded += chunk.length
      if (!pair.upstream.write(chunk)) {
        pair.client.pause()
        pair.upstream.once('drain', () => { if (!pair.held) pair.client.resume() })
      }
      return
    }
    this.#plan.shift()
    const head = chunk.subarray(0, next.at - this.forwarded)
    this.forwarded += head.length
    if (next.action === 'cut') {
      this.cuts++
      pair.upstream.end(head)
      pair.client.destroy()
    } else {
      pair.held = true
      pair.client.pause()
      pair.upstream.write(head)
    }
    next.done()
  }

  #drop (pair: Pair): void {
    if (!this.#pairs.delete(pair)) return
    pair.client.destroy()
    pair.upstream.destroy()
  }
}

/** The offset the server holds for an upload, asked directly (not through the proxy). */
async function serverOffset (server: UploadServer, uploadUrl: string): Promise<{ status: number, offset: number | null }> {
  const url = new URL(new URL(uploadUrl).pathname, server.origin)
  const response = await fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
  const offset = response.headers.get('upload-offset')
  return { status: response.status, offset: offset === null ? null : Number(offset) }
}

let bundles: { formcall: string, tus: string, uppy: string }
let server: UploadServer
let proxy: CuttingProxy
let browser: TestBrowser

before(async () => {
  bundles = { formcall: await buildClientBundle(), tus: await buildTusBundle(), uppy: await buildUppyBundle() }
  server = await startUploadServer(bundles)
  proxy = await CuttingProxy.start(server.port)
  browser = await launchBrowser()
})
afterEach(async () => {
  await browser.closePages()
  proxy.dropHeld()
})
after(async () => {
  await browser?.close()
  await proxy?.close()
  await server?.close()
})

/** The test page through the proxy, with both clients loaded. */
async function openPage (origin = proxy.origin): Promise<Page> {
  const page = await browser.openPage(`${origin}/`)
  await page.waitForFunction(() => 'formcall' in window && 'tus' in window && 'uppy' in window)
  return page
}

test('tus-js-client in the page uploads a 64 MiB Blob through two dropped connections, and a call binding it gets its SHA-256', async () => {
  const page = await openPage()
  const seed = 11
  const cut = proxy.cutAfter(20 * MiB, 44 * MiB)
  const cutsBefore = proxy.cuts

  const { digest, retries } = await page.evaluate(async ({ size, seed, patternSource }) => {
    const fillPattern = new Function(`return (${patternSource})`)() as (bytes: Uint8Array, seed: number) => void
    const bytes = new Uint8Array(size)
    fillPattern(bytes, seed)
    const file = new File([bytes], 'video.bin', { type: 'video/mp4' })
    let token: string | null = null
    let retries = 0
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new window.tus.Upload(file, {
        endpoint: `${location.origin}/rpc/uploads/`,
        metadata: { filename: file.name, filetype: file.type },
        retryDelays: [0, 0, 0],
        onShouldRetry: () => { retries++; return true },
        onAfterResponse: (_request, response) => { token = response.getHeader('Upload-Token') ?? token },
        onSuccess: () => { resolve(upload.url as string) },
        onError: reject
      })
      upload.start()
    })
    if (token === null) throw new Error('the creation answer carried no Upload-Token the page could read')
    const api = window.formcall.createClient('/rpc')
    return { digest: await api.files.digest({ $upload: url, token }), retries }
  }, { size: SIZE, seed, patternSource })

  await cut
  assert.equal(proxy.cuts - cutsBefore, 2, 'both connections were cut')
  assert.ok(retries >= 2, `tus-js-client retried after each cut (${retries} retries)`)
  assert.deepEqual(digest, { size: SIZE, sha256: sha256(patternBytes(SIZE, seed)) })
})

test('Uppy with its Tus plugin uploads a 32 MiB Blob through a dropped connection; a call binding it gets its SHA-256, name and type', async () => {
  const page = await openPage()
  const seed = 14
  const size = 32 * MiB
  const cut = proxy.cutAfter(12 * MiB)
  const cutsBefore = proxy.cuts

  const digest = await page.evaluate(async ({ size, seed, patternSource }) => {
    const fillPattern = new Function(`return (${patternSource})`)() as (bytes: Uint8Array, seed: number) => void
    const bytes = new Uint8Array(size)
    fillPattern(bytes, seed)
    let token: string | null = null
    const { Uppy, Tus } = window.uppy
    const uppy = new Uppy({ autoProceed: false }).use(Tus, {
      endpoint: `${location.origin}/rpc/uploads/`,
      retryDelays: [0, 0, 0],
      onAfterResponse: (request, response) => {
        if (request.getMethod() === 'POST') token = response.getHeader('Upload-Token') ?? token
      }
    })
    uppy.addFile({ name: 'holiday.webm', type: 'video/webm', data: new Blob([bytes], { type: 'video/webm' }), source: 'test' })
    const result = await uppy.upload()
    const url = result?.successful?.[0]?.uploadURL
    if (url === undefined || token === null) throw new Error(`Uppy's upload did not finish with a URL and a token: ${JSON.stringify(result?.failed ?? [])}`)
    const api = window.formcall.createClient('/rpc')
    return await api.files.named({ $upload: url, token })
  }, { size, seed, patternSource })

  await cut
  assert.equal(proxy.cuts - cutsBefore, 1, 'the connection was cut')
  assert.deepEqual(digest, { size, sha256: sha256(patternBytes(size, seed)), filename: 'holiday.webm', type: 'video/webm' })
})

test('the browser client uploads a resumable() File in 24 MiB requests through two dropped connections, reports progress over the whole file, and binds it to the call', async () => {
  const page = await openPage()
  const seed = 12
  const cut = proxy.cutAfter(16 * MiB, 40 * MiB)
  const cutsBefore = proxy.cuts

  const { digest, progress, remembered } = await page.evaluate(async ({ size, seed, patternSource }) => {
    const fillPattern = new Function(`return (${patternSource})`)() as (bytes: Uint8Array, seed: number) => void
    const bytes = new Uint8Array(size)
    fillPattern(bytes, seed)
    const { createClient, resumable } = window.formcall
    const progress: Array<{ loaded: number, total: number }> = []
    const api = createClient<PageMethods>('/rpc', {
      // Three PATCH requests of at most 24 MiB: the cuts fall inside the first and the second.
      resumable: { chunkSize: 24 * 1024 * 1024 },
      onUploadProgress: (event) => { progress.push(event) }
    })
    const digest = await api.files.digest(resumable(new File([bytes], 'clip.bin', { type: 'video/mp4', lastModified: 1_700_000_000_000 })))
    const remembered = Object.keys(localStorage).filter((key) => key.startsWith('formcall-upload::'))
    return { digest, progress, remembered }
  }, { size: SIZE, seed, patternSource })

  await cut
  assert.equal(proxy.cuts - cutsBefore, 2, 'both connections were cut')
  assert.deepEqual(digest, { size: SIZE, sha256: sha256(patternBytes(SIZE, seed)) })
  assert.deepEqual(progress.at(-1), { loaded: SIZE, total: SIZE }, 'the last progress event is the whole file')
  assert.ok(progress.every((event) => event.total === SIZE && event.loaded <= SIZE), 'every event counts over the file')
  assert.ok(progress.some((event) => event.loaded > 16 * MiB && event.loaded < SIZE), 'progress was reported along the way')
  assert.deepEqual(remembered, [], 'a bound upload is no longer remembered for resuming')
})

test('the browser client uploads a 1 GiB file the user picked through three dropped connections and binds it to the call with the right SHA-256', async () => {
  const size = 1024 * MiB
  const dir = await mkdtemp(join(tmpdir(), 'formcall-browser-big-'))
  try {
    // A real file on disk, picked through an <input type=file> as a user would: the page holds none of its bytes.
    const path = join(dir, 'lecture.mp4')
    const hash = createHash('sha256')
    const out = createWriteStream(path)
    const piece = patternBytes(16 * MiB, 15)
    for (let written = 0; written < size; written += piece.length) {
      hash.update(piece)
      if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    }
    out.end()
    await finished(out)
    const page = await openPage()
    await page.setInputFiles('#pick', path)
    // Three cuts at seeded offsets, each inside a different 64 MiB request.
    const cuts = [random.int(10, 300), random.int(350, 650), random.int(700, 1000)].map((mib) => mib * MiB)
    const cut = proxy.cutAfter(...cuts)
    const cutsBefore = proxy.cuts

    const { digest, last } = await page.evaluate(async () => {
      const file = (document.getElementById('pick') as HTMLInputElement).files?.[0]
      if (file === undefined) throw new Error('no file was picked')
      let last: { loaded: number, total: number } | undefined
      const api = window.formcall.createClient<PageMethods>('/rpc', { onUploadProgress: (event) => { last = event } })
      return { digest: await api.files.digest(window.formcall.resumable(file)), last }
    })

    await cut
    assert.equal(proxy.cuts - cutsBefore, 3, 'three connections were cut')
    assert.deepEqual(digest, { size, sha256: hash.digest('hex') })
    assert.deepEqual(last, { loaded: size, total: size })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a page reloaded mid-upload resumes the same File from the offset the server holds, not from zero', async () => {
  const seed = 13
  const start = async (page: Page): Promise<void> => {
    await page.evaluate(({ size, seed, patternSource }) => {
      const fillPattern = new Function(`return (${patternSource})`)() as (bytes: Uint8Array, seed: number) => void
      const bytes = new Uint8Array(size)
      fillPattern(bytes, seed)
      // What a file picked again from disk after the reload keeps: its name, type, size and last-modified time.
      const file = new File([bytes], 'lecture.bin', { type: 'video/mp4', lastModified: 1_700_000_000_000 })
      const progress: Array<{ loaded: number, total: number }> = []
      const api = window.formcall.createClient<PageMethods>('/rpc', {
        onUploadProgress: (event) => { progress.push(event) }
      })
      window.running = api.files.digest(window.formcall.resumable(file)).then((digest) => ({ digest, progress }))
    }, { size: SIZE, seed, patternSource })
  }
  const rememberedUrl = async (page: Page): Promise<string> => await page.evaluate(() => {
    const keys = Object.keys(localStorage).filter((key) => key.startsWith('formcall-upload::'))
    if (keys.length !== 1) throw new Error(`expected one remembered upload, found ${keys.length}`)
    return (JSON.parse(localStorage.getItem(keys[0] as string) as string) as { url: string }).url
  })

  const idsBefore = await server.uploads()
  const page = await openPage()
  const held = proxy.holdAfter(24 * MiB)
  await start(page)
  await held
  const uploadUrl = await rememberedUrl(page)
  await page.reload()
  await page.waitForFunction(() => 'formcall' in window)
  // Whatever the browser does with the connection of the unloaded page, the server sees it end here.
  proxy.dropHeld()
  await waitFor(async () => ((await serverOffset(server, uploadUrl)).offset ?? 0) > 0, 'the server to store the bytes before the reload')
  const before = await serverOffset(server, uploadUrl)
  assert.equal(before.status, 200)
  assert.ok((before.offset ?? 0) > 16 * MiB && (before.offset ?? 0) < SIZE, `the server holds part of the upload (offset ${before.offset})`)
  assert.equal(await rememberedUrl(page), uploadUrl, 'the reloaded page still remembers the upload')

  const forwardedBefore = proxy.forwarded
  await start(page)
  const { digest, progress } = await page.evaluate(async () => await window.running) as {
    digest: { size: number, sha256: string }, progress: Array<{ loaded: number, total: number }>
  }
  const sentAfterReload = proxy.forwarded - forwardedBefore

  assert.deepEqual(digest, { size: SIZE, sha256: sha256(patternBytes(SIZE, seed)) })
  // At least the offset read above: bytes still on their way to the server when it was read may have landed since.
  assert.ok((progress[0]?.loaded ?? 0) >= (before.offset as number), `the resumed upload started from the server's offset (${progress[0]?.loaded})`)
  assert.ok(sentAfterReload < SIZE - (before.offset as number) + MiB,
    `after the reload the page sent ${sentAfterReload} bytes, only the rest of the file (${SIZE - (before.offset as number)} bytes) and requests`)
  const created = (await server.uploads()).filter((id) => !idsBefore.includes(id))
  assert.deepEqual(created, [new URL(uploadUrl).pathname.split('/').at(-1)], 'the page made one upload, resumed after the reload')
})

test('aborting the call\'s signal mid-upload rejects with an aborted TransportError and deletes the upload on the server', async () => {
  const idsBefore = await server.uploads()
  const page = await openPage()
  const held = proxy.holdAfter(8 * MiB)
  await page.evaluate(({ size }) => {
    const controller = new AbortController()
    Object.assign(window, { controller })
    const api = window.formcall.createClient('/rpc', { signal: controller.signal })
    window.running = api.files.digest(window.formcall.resumable(new Blob([new Uint8Array(size)]))).then(
      () => ({ outcome: 'resolved' }),
      (err: unknown) => ({ outcome: 'rejected', kind: (err as { kind?: string }).kind, cause: (err as Error).cause }))
  }, { size: 32 * MiB })
  await held
  const created = (await server.uploads()).filter((id) => !idsBefore.includes(id))
  assert.equal(created.length, 1, 'the upload was created before the abort')

  const outcome = await page.evaluate(async () => {
    (window as unknown as { controller: AbortController }).controller.abort('user cancelled')
    return await window.running
  })
  assert.deepEqual(outcome, { outcome: 'rejected', kind: 'aborted', cause: 'user cancelled' })
  proxy.dropHeld()
  await waitFor(async () => {
    const now = await server.uploads()
    return created.every((id) => !now.includes(id))
  }, 'the aborted upload to be deleted')
})

test('a call whose timeout elapses while its upload is stuck rejects with a timeout TransportError', async () => {
  const page = await openPage()
  // The upload's first request is held, so the call cannot finish, however fast the machine, before its timeout.
  const held = proxy.holdAfter(1)
  const outcome = await page.evaluate(async () => {
    const api = window.formcall.createClient<PageMethods>('/rpc', { timeout: 500 })
    try {
      return await api.files.digest(window.formcall.resumable(new Blob(['stuck'])))
    } catch (err) {
      return { name: (err as Error).name, kind: (err as { kind?: string }).kind, message: (err as Error).message }
    }
  })
  await held
  assert.deepEqual(outcome, {
    name: 'TransportError',
    kind: 'timeout',
    message: 'call "files.digest" did not finish its resumable upload within 500 ms; raise the timeout option, or call again with the same file to resume the upload'
  })
})

test('a page of another origin cannot upload unless the server allows its origin', async () => {
  const site: ClientSite = await startClientSite(bundles.formcall)
  const allowing = await startUploadServer(bundles, { allowedOrigins: [site.origin] })
  try {
    const page = await browser.openPage(site.pageUrl)
    await page.waitForFunction(() => 'formcall' in window)
    const upload = async (rpcUrl: string): Promise<unknown> => await page.evaluate(async ({ rpcUrl }) => {
      const { createClient, resumable } = window.formcall
      const api = createClient<PageMethods>(rpcUrl, { resumable: { retryDelays: [] } })
      try {
        return { digest: await api.files.digest(resumable(new File(['hello, resumable formcall'], 'hello.txt', { type: 'text/plain' }))) }
      } catch (err) {
        return { name: (err as Error).name, kind: (err as { kind?: string }).kind }
      }
    }, { rpcUrl })

    const refusedBefore = await server.uploads()
    assert.deepEqual(await upload(`${server.origin}/rpc`), { name: 'TransportError', kind: 'network' },
      'the preflight is refused, so the browser gets no answer')
    assert.deepEqual(await server.uploads(), refusedBefore, 'no upload was created')

    assert.deepEqual(await upload(`${allowing.origin}/rpc`), { digest: { size: 25, sha256: sha256('hello, resumable formcall') } })
  } finally {
    await allowing.close()
    await site.close()
  }
})

test('with resumable.above, only the file above it is uploaded resumably; the smaller one travels in the call, and progress spans both', async () => {
  const page = await openPage()
  const idsBefore = await server.uploads()
  const { digests, progress } = await page.evaluate(async ({ size, seed, patternSource }) => {
    const fillPattern = new Function(`return (${patternSource})`)() as (bytes: Uint8Array, seed: number) => void
    const bytes = new Uint8Array(size)
    fillPattern(bytes, seed)
    const progress: Array<{ loaded: number, total: number }> = []
    const api = window.formcall.createClient<PageMethods>('/rpc', {
      resumable: { above: 1024 * 1024 },
      onUploadProgress: (event) => { progress.push(event) }
    })
    const digests = await api.files.pair(new Blob([bytes]), new File(['a small note'], 'note.txt', { type: 'text/plain' }))
    return { digests, progress }
  }, { size: 8 * MiB, seed: 14, patternSource })

  assert.deepEqual(digests, [{ size: 8 * MiB, sha256: sha256(patternBytes(8 * MiB, 14)) }, { size: 12, sha256: sha256('a small note') }])
  assert.equal((await server.uploads()).filter((id) => !idsBefore.includes(id)).length, 1, 'one upload: the big file\'s')
  const last = progress.at(-1) as { loaded: number, total: number }
  assert.equal(last.loaded, last.total)
  assert.ok(last.total > 8 * MiB + 12, `the total (${last.total}) is the uploaded file and the call's multipart body`)
  for (const [index, event] of progress.entries()) {
    assert.ok(event.loaded >= (progress[index - 1]?.loaded ?? 0), `event ${index} did not go backwards`)
  }
})

test('a resumable upload to a server without uploads fails before the call with a TransportError saying so', async () => {
  const plain = await startUploadServer(bundles, {}, false)
  try {
    const page = await openPage(plain.origin)
    const outcome = await page.evaluate(async () => {
      const { createClient, resumable } = window.formcall
      try {
        return await createClient<PageMethods>('/rpc').files.digest(resumable(new Blob(['x'])))
      } catch (err) {
        return { name: (err as Error).name, kind: (err as { kind?: string }).kind, status: (err as { status?: number }).status, message: (err as Error).message }
      }
    })
    assert.deepEqual({ ...outcome, message: undefined }, { name: 'TransportError', kind: 'protocol', status: 404, message: undefined })
    assert.match((outcome as { message: string }).message, /has no resumable uploads at http:\/\/127\.0\.0\.1:\d+\/rpc\/uploads\/ \(404\)/)
  } finally {
    await plain.close()
  }
})
