/**
 * The demo page and the demo server, end to end in Debian's Chromium: the page's controls drive real calls to
 * `createDemoServer` (the demo methods in pooled workers) on 127.0.0.1, and a second origin calls it cross-origin.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import type demoMethods from '../demo/methods.js'
import { buildPage } from '../demo/serve.js'
import type probeMethods from './support/browser-probe-methods.js'
import { launchBrowser, throttleUploads, type TestBrowser } from './support/browser.js'
import { patternBytes, patternSource, sha256 } from './support/browser-bytes.js'
import { buildClientBundle, startClientSite, type ClientSite } from './support/browser-client-page.js'
import { startDemoServer, type DemoServer } from './support/browser-demo-server.js'

declare global {
  interface Window {
    formcall: typeof import('@formcall/client-browser')
  }
}

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
const PROBE_METHODS = new URL('./support/browser-probe-methods.ts', import.meta.url)
const MB = 1_000_000
// Slow enough that an upload is certainly still running when the test acts on it (cancels it, looks at the spool).
const SLOW_UPLOAD = 2 * MB

let pageDir: string
let clientBundle: string
let server: DemoServer
let allowing: DemoServer
let site: ClientSite
let browser: TestBrowser

before(async () => {
  pageDir = await mkdtemp(join(tmpdir(), 'formcall-demo-page-'))
  await buildPage({ outDir: pageDir })
  clientBundle = await buildClientBundle()
  site = await startClientSite(clientBundle)
  server = await startDemoServer({ pageDir })
  allowing = await startDemoServer({ pageDir, allowedOrigins: [site.origin] })
  browser = await launchBrowser()
})
afterEach(async () => { await browser.closePages() })
after(async () => {
  await browser?.close()
  await server?.close()
  await allowing?.close()
  await site?.close()
  await rm(pageDir, { recursive: true, force: true })
})

/** A file the page makes: some text, or `size` bytes of the deterministic pattern from `seed`. */
type FileSpec = { name: string, type?: string } & ({ text: string } | { size: number, seed: number })

/** The SHA-256 Node expects for a FileSpec. */
function digestOf (spec: FileSpec): string {
  return 'text' in spec ? sha256(spec.text) : sha256(patternBytes(spec.size, spec.seed))
}

/** Makes the files in the page and drops them on the demo's drop zone, as a drag and drop from the desktop would. */
async function dropFiles (page: Page, specs: FileSpec[]): Promise<void> {
  await page.evaluate(({ specs, patternSource }) => {
    const fillPattern = new Function(`return (${patternSource})`)() as (bytes: Uint8Array, seed: number) => void
    const transfer = new DataTransfer()
    for (const spec of specs) {
      let content: BlobPart
      if ('text' in spec) {
        content = spec.text
      } else {
        const bytes = new Uint8Array(spec.size)
        fillPattern(bytes, spec.seed)
        content = bytes
      }
      transfer.items.add(new File([content], spec.name, { type: spec.type ?? '' }))
    }
    const zone = document.getElementById('drop-zone') as HTMLElement
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }))
  }, { specs, patternSource })
}

/** The digest table's rows, cell texts. */
async function digestRows (page: Page): Promise<string[][]> {
  return await page.$$eval('[data-testid=hash-row]', (rows) =>
    rows.map((row) => Array.from((row as HTMLTableRowElement).cells, (cell) => cell.textContent ?? '')))
}

/** Distinct colours in a PNG, decoded by the browser. */
async function distinctColours (page: Page, png: Buffer): Promise<{ width: number, height: number, colours: number }> {
  return await page.evaluate(async (base64) => {
    const image = new Image()
    image.src = `data:image/png;base64,${base64}`
    await image.decode()
    const canvas = new OffscreenCanvas(image.width, image.height)
    const context = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D
    context.drawImage(image, 0, 0)
    const pixels = new Uint32Array(context.getImageData(0, 0, image.width, image.height).data.buffer)
    return { width: image.width, height: image.height, colours: new Set(pixels).size }
  }, png.toString('base64'))
}

test('the demo page hashes several files in one call, a 200 MB Blob made in the page among them, and shows the SHA-256 Node computes', async () => {
  const files: FileSpec[] = [
    { name: 'note.txt', type: 'text/plain', text: 'hello, formcall' },
    { name: 'big.bin', size: 200 * MB, seed: 1 },
    { name: 'scores.csv', type: 'text/csv', text: 'name,score\nAda,1\nCharles,2\n' }
  ]
  const page = await browser.openPage(`${server.origin}/`)
  const answersBefore = server.answers.length

  await dropFiles(page, files)
  await page.locator('[data-testid=hash-table]').waitFor({ state: 'visible', timeout: 300_000 })

  assert.deepEqual(await digestRows(page), [
    ['note.txt', '15 B', digestOf(files[0] as FileSpec)],
    ['big.bin', '200.0 MB', digestOf(files[1] as FileSpec)],
    ['scores.csv', '27 B', digestOf(files[2] as FileSpec)]
  ])
  assert.equal(await page.textContent('[data-testid=hash-selection]'), '3 files, 200.0 MB')
  assert.match(await page.textContent('[data-testid=hash-status]') ?? '', /^Hashed 3 files \(200\.0 MB\) in \d+\.\d s\.$/)
  // All three files went in one request.
  assert.deepEqual(server.answers.slice(answersBefore).map(({ method, contentType, status }) => ({ method, contentType, status })),
    [{ method: 'POST', contentType: 'multipart/form-data', status: 200 }])

  await mkdir(ARTIFACTS, { recursive: true })
  const png = await page.screenshot({ fullPage: true })
  await writeFile(join(ARTIFACTS, 'demo-after-upload.png'), png)
  // A blank or half-drawn page compresses to a few KB and has a handful of colours; the demo with its table has text.
  assert.ok(png.length > 50_000, `the screenshot is ${png.length} bytes`)
  const { width, colours } = await distinctColours(page, png)
  assert.equal(width, 1200)
  assert.ok(colours > 200, `the screenshot has ${colours} distinct colours`)
})

test('with Resumable ticked the demo page uploads through the tus endpoint first; the call binds the uploads and shows the same digests', async () => {
  const files: FileSpec[] = [
    { name: 'clip.bin', size: 12 * MB, seed: 3 },
    { name: 'note.txt', type: 'text/plain', text: 'resumed, formcall' }
  ]
  const page = await browser.openPage(`${server.origin}/`)
  const answersBefore = server.answers.length
  await page.check('[data-testid=hash-resumable]')
  await dropFiles(page, files)
  await page.locator('[data-testid=hash-table]').waitFor({ state: 'visible', timeout: 120_000 })

  assert.deepEqual(await digestRows(page), [
    ['clip.bin', '12.0 MB', digestOf(files[0] as FileSpec)],
    ['note.txt', '17 B', digestOf(files[1] as FileSpec)]
  ])
  // The call itself carried no file bytes: every file was bound by its upload, so it went as a JSON body.
  const calls = server.answers.slice(answersBefore).filter(({ contentType }) => contentType !== 'application/offset+octet-stream')
  assert.ok(calls.some(({ method, contentType, status }) => method === 'POST' && contentType === 'application/json' && status === 200),
    JSON.stringify(calls))
  assert.ok(!calls.some(({ contentType }) => contentType === 'multipart/form-data'), JSON.stringify(calls))
})

test('the progress bar climbs to 100% and shows the upload speed while files upload', async () => {
  const page = await browser.openPage(`${server.origin}/`)
  // Every percentage the page shows, in order.
  await page.evaluate(() => {
    const seen: string[] = []
    const percent = document.getElementById('hash-percent') as HTMLElement
    new MutationObserver(() => { seen.push(percent.textContent ?? '') }).observe(percent, { childList: true, characterData: true, subtree: true })
    Object.assign(window, { seenPercentages: seen })
  })

  await dropFiles(page, [{ name: 'video.bin', size: 50 * MB, seed: 2 }])
  await page.locator('[data-testid=hash-table]').waitFor({ state: 'visible', timeout: 120_000 })

  const seen = await page.evaluate(() => (window as unknown as { seenPercentages: string[] }).seenPercentages)
  const percentages = seen.map((text) => Number(/^(\d+)%$/.exec(text)?.[1]))
  assert.ok(percentages.every((value) => Number.isInteger(value)), `percentages shown: ${seen.join(', ')}`)
  assert.deepEqual(percentages, [...percentages].sort((a, b) => a - b), 'the percentage never goes back')
  assert.equal(percentages.at(-1), 100)
  assert.equal(await page.locator('[data-testid=hash-progress]').evaluate((bar) => (bar as HTMLProgressElement).value), 100)
  assert.match(await page.textContent('[data-testid=hash-speed]') ?? '', /^\d+(\.\d)? (B|kB|MB|GB)\/s$/)
  assert.equal(await page.getAttribute('#hash-progress-row', 'data-state'), 'done')
  assert.deepEqual(await digestRows(page), [['video.bin', '50.0 MB', sha256(patternBytes(50 * MB, 2))]])
})

test('Cancel stops an upload midway: the method sees the abort, no temp file remains, and the next upload works', async () => {
  const page = await browser.openPage(`${server.origin}/`)
  const unthrottle = await throttleUploads(page, SLOW_UPLOAD)

  await dropFiles(page, [{ name: 'slow.bin', size: 40 * MB, seed: 3 }])
  // Bytes are on their way: the first progress event has come.
  await page.waitForFunction(() => document.getElementById('hash-percent')?.textContent !== '0%')
  await page.click('[data-testid=hash-cancel]')

  await page.locator('#hash-progress-row[data-state=cancelled]').waitFor()
  assert.equal(await page.textContent('[data-testid=hash-status]'), 'Upload cancelled; the server stopped hashing.')
  assert.ok(await page.isDisabled('[data-testid=hash-cancel]'))
  assert.ok(await page.locator('[data-testid=hash-table]').isHidden())
  const percent = Number((await page.textContent('[data-testid=hash-percent]'))?.replace('%', ''))
  assert.ok(percent < 100, `the upload was cancelled at ${percent}%`)

  const seen = await server.waitForLog('files.digestMany: the client cancelled the upload')
  assert.deepEqual({ file: seen.file, digested: seen.digested }, { file: 'slow.bin', digested: 0 })
  await server.waitForEmptyTmpDir()

  await unthrottle()
  await dropFiles(page, [{ name: 'after.txt', type: 'text/plain', text: 'still here' }])
  await page.locator('#hash-progress-row[data-state=done]').waitFor()
  assert.deepEqual(await digestRows(page), [['after.txt', '10 B', sha256('still here')]])
})

test('aborting a call through its AbortSignal mid-upload removes the temp file the server spooled an earlier file to', async () => {
  // Methods of the test's own (probe.secondFirst reads its second file first), in the demo server.
  const probe = await startDemoServer({ pageDir, methodsModule: PROBE_METHODS, clientBundle })
  try {
    const page = await browser.openPage(probe.clientPageUrl)
    await page.waitForFunction(() => 'formcall' in window)
    const unthrottle = await throttleUploads(page, SLOW_UPLOAD)

    await page.evaluate(({ patternSource, sizes }) => {
      const fillPattern = new Function(`return (${patternSource})`)() as (bytes: Uint8Array, seed: number) => void
      const [first, second] = sizes.map((size, index) => {
        const bytes = new Uint8Array(size)
        fillPattern(bytes, 5 + index)
        return bytes
      })
      const controller = new AbortController()
      const progress: Array<{ loaded: number, total: number }> = []
      const api = window.formcall.createClient<typeof probeMethods>('/rpc')
      const outcome = api.$with({ signal: controller.signal, onUploadProgress: (event) => { progress.push(event) } })
        .probe.secondFirst(new File([first], 'first.bin'), new File([second], 'second.bin'))
        .then(() => ({ kind: 'resolved' }), (err: unknown) => ({
          kind: err instanceof window.formcall.TransportError ? `TransportError ${err.kind}` : String(err)
        }))
      Object.assign(window, { probeCall: { controller, progress, outcome } })
    }, { patternSource, sizes: [2 * MB, 40 * MB] })

    // The method waits for the second file, so the server moves the first one (too large for the socket's buffers
    // to hold) to a temp file meanwhile.
    await probe.waitForTmpFile()
    const { outcome, lastProgress } = await page.evaluate(async () => {
      const call = (window as unknown as { probeCall: {
        controller: AbortController
        progress: Array<{ loaded: number, total: number }>
        outcome: Promise<{ kind: string }>
      } }).probeCall
      const lastProgress = call.progress.at(-1) ?? { loaded: 0, total: 1 }
      call.controller.abort()
      return { outcome: await call.outcome, lastProgress }
    })

    assert.deepEqual(outcome, { kind: 'TransportError aborted' })
    assert.ok(lastProgress.loaded < lastProgress.total, `aborted after ${lastProgress.loaded} of ${lastProgress.total} bytes`)
    const seen = await probe.waitForLog('probe.secondFirst: saw the abort')
    assert.equal(seen.reason, 'the client closed the connection before the call finished')
    await probe.waitForEmptyTmpDir()

    await unthrottle()
    const digests = await page.evaluate(async () => await window.formcall.createClient<typeof probeMethods>('/rpc')
      .probe.secondFirst(new File(['one'], 'one.txt'), new File(['two'], 'two.txt')))
    assert.deepEqual(digests, [
      { name: 'one.txt', size: 3, sha256: sha256('one') },
      { name: 'two.txt', size: 3, sha256: sha256('two') }
    ])
    await probe.waitForEmptyTmpDir()
  } finally {
    await probe.close()
  }
})

test('dividing by zero shows the method\'s RpcError code, message and data on the page', async () => {
  const page = await browser.openPage(`${server.origin}/`)
  await page.fill('[data-testid=divide-a]', '1')
  await page.fill('[data-testid=divide-b]', '4')
  await page.click('[data-testid=divide-submit]')
  await page.locator('[data-testid=divide-result]').waitFor()
  assert.equal(await page.textContent('[data-testid=divide-result]'), '1 ÷ 4 = 0.25')

  await page.fill('[data-testid=divide-a]', '22')
  await page.fill('[data-testid=divide-b]', '0')
  await page.click('[data-testid=divide-submit]')
  await page.locator('[data-testid=divide-error]').waitFor()

  assert.equal(await page.textContent('[data-testid=divide-error-code]'), '4000')
  assert.equal(await page.textContent('[data-testid=divide-error-name]'), 'APPLICATION_ERROR')
  assert.equal(await page.textContent('[data-testid=divide-error-message]'), 'cannot divide by zero; pass a non-zero divisor')
  assert.equal(await page.textContent('[data-testid=divide-error-data]'), 'data: {"a":22,"b":0}')
  assert.ok(await page.locator('[data-testid=divide-result]').isHidden())
})

/** A 1×1 PNG (a real one: the server sniffs a file's first bytes against the types its param accepts). */
const PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGPwd3v6HwAE3AJ6zM4FjgAAAABJRU5ErkJggg==', 'base64')

/** What the photo card's error box shows. */
async function photoErrorShown (page: Page): Promise<{ code: string | null, name: string | null, message: string | null, issues: string[], data: string | null }> {
  await page.locator('[data-testid=photo-error]').waitFor()
  return {
    code: await page.textContent('[data-testid=photo-error-code]'),
    name: await page.textContent('[data-testid=photo-error-name]'),
    message: await page.textContent('[data-testid=photo-error-message]'),
    issues: await page.locator('[data-testid=photo-error-issue]').allTextContents(),
    data: await page.textContent('[data-testid=photo-error-data]')
  }
}

test('a title longer than photos.add\'s zod schema allows shows -32602 with the issue\'s path and message; the server keeps serving', async () => {
  const page = await browser.openPage(`${server.origin}/`)
  const answersBefore = server.answers.length
  const tooLong = 'The analytical engine, seen from the north-east corner'
  assert.ok(tooLong.length > 40)
  await page.fill('[data-testid=photo-title]', tooLong)
  await page.setInputFiles('[data-testid=photo-file]', { name: 'pixel.png', mimeType: 'image/png', buffer: PIXEL_PNG })
  await page.click('[data-testid=photo-submit]')

  assert.deepEqual(await photoErrorShown(page), {
    code: '-32602',
    name: 'INVALID_PARAMS',
    message: 'the params of "photos.add" do not fit it: ["title"]: a title has at most 40 characters',
    issues: ['title a title has at most 40 characters'],
    data: ''
  })
  // The field the issue's path names is marked, and only that one.
  assert.equal(await page.getAttribute('[data-testid=photo-title]', 'aria-invalid'), 'true')
  assert.equal(await page.getAttribute('[data-testid=photo-file]', 'aria-invalid'), null)
  assert.ok(await page.locator('[data-testid=photo-result]').isHidden())
  // A JSON-RPC client reads errors from the envelope, so -32602 is answered with HTTP 200 (PROTOCOL.md section 8.1).
  assert.deepEqual(server.answers.slice(answersBefore).map(({ method, contentType, status, errorCode }) => ({ method, contentType, status, errorCode })),
    [{ method: 'POST', contentType: 'multipart/form-data', status: 200, errorCode: -32602 }])

  // A required file param left out is refused before anything is bound, with the path of that param.
  await page.fill('[data-testid=photo-title]', 'Pixel')
  await page.setInputFiles('[data-testid=photo-file]', [])
  await page.click('[data-testid=photo-submit]')
  const missing = await photoErrorShown(page)
  assert.equal(missing.code, '-32602')
  assert.equal(missing.issues.length, 1)
  assert.match(missing.issues[0] ?? '', /^photo the file param "photo" is required/)
  assert.equal(await page.getAttribute('[data-testid=photo-file]', 'aria-invalid'), 'true')
  assert.equal(await page.getAttribute('[data-testid=photo-title]', 'aria-invalid'), null)

  // The same page and server take the next call that fits: the title is trimmed by the schema's transform.
  await page.fill('[data-testid=photo-title]', '  Pixel  ')
  await page.setInputFiles('[data-testid=photo-file]', { name: 'pixel.png', mimeType: 'image/png', buffer: PIXEL_PNG })
  await page.click('[data-testid=photo-submit]')
  await page.locator('[data-testid=photo-summary]').waitFor()
  assert.equal(await page.textContent('[data-testid=photo-summary]'), 'Added “Pixel”: pixel.png, image/png, 70 B.')
  assert.ok(await page.locator('[data-testid=photo-error]').isHidden())
  assert.equal(await page.getAttribute('[data-testid=photo-title]', 'aria-invalid'), null)
  assert.equal(await page.getAttribute('[data-testid=photo-file]', 'aria-invalid'), null)
  assert.deepEqual(server.answers.slice(answersBefore).map(({ contentType, errorCode }) => ({ contentType, errorCode })), [
    { contentType: 'multipart/form-data', errorCode: -32602 },
    // No file chosen: the call carries no part, so the client sends it as JSON.
    { contentType: 'application/json', errorCode: -32602 },
    { contentType: 'multipart/form-data', errorCode: undefined }
  ])
})

test('photos.add\'s file() constraints: a text file is refused with -32020 and a photo over 2 MB with -32004, both shown on the page', async () => {
  const page = await browser.openPage(`${server.origin}/`)
  await page.fill('[data-testid=photo-title]', 'Notes')
  await page.setInputFiles('[data-testid=photo-file]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') })
  await page.click('[data-testid=photo-submit]')
  const wrongType = await photoErrorShown(page)
  assert.deepEqual({ code: wrongType.code, name: wrongType.name, issues: wrongType.issues },
    { code: '-32020', name: 'FILE_TYPE_NOT_ACCEPTED', issues: [] })
  assert.match(wrongType.data ?? '', /^data: \{"param":"photo",/)
  assert.equal(await page.getAttribute('[data-testid=photo-file]', 'aria-invalid'), 'true')
  assert.equal(await page.getAttribute('[data-testid=photo-title]', 'aria-invalid'), null)

  // A real PNG signature, so the type passes and only the size is wrong.
  const big = Buffer.concat([PIXEL_PNG, Buffer.alloc(2_500_000)])
  await page.fill('[data-testid=photo-title]', 'Big')
  await page.setInputFiles('[data-testid=photo-file]', { name: 'big.png', mimeType: 'image/png', buffer: big })
  await page.click('[data-testid=photo-submit]')
  await page.locator('[data-testid=photo-error-code]', { hasText: '-32004' }).waitFor()
  const tooBig = await photoErrorShown(page)
  assert.deepEqual({ code: tooBig.code, name: tooBig.name, issues: tooBig.issues }, { code: '-32004', name: 'LIMIT_EXCEEDED', issues: [] })
  assert.match(tooBig.data ?? '', /"limit":"maxSize"/)
  await server.waitForEmptyTmpDir()

  await page.fill('[data-testid=photo-title]', 'Pixel')
  await page.setInputFiles('[data-testid=photo-file]', { name: 'pixel.png', mimeType: 'image/png', buffer: PIXEL_PNG })
  await page.click('[data-testid=photo-submit]')
  await page.locator('[data-testid=photo-summary]').waitFor()
  assert.equal(await page.textContent('[data-testid=photo-summary]'), 'Added “Pixel”: pixel.png, image/png, 70 B.')
})

test('the plain HTML form is sent through fromForm with its text field and every chosen file', async () => {
  const page = await browser.openPage(`${server.origin}/`)
  await page.fill('[data-testid=profile-name]', '  Ada Lovelace ')
  await page.setInputFiles('[data-testid=profile-photos]', [
    { name: 'engine.txt', mimeType: 'text/plain', buffer: Buffer.from('analytical engine') },
    { name: 'note-g.txt', mimeType: 'text/plain', buffer: Buffer.from('# Note G') }
  ])
  await page.click('[data-testid=profile-submit]')
  await page.locator('[data-testid=profile-summary]').waitFor()

  assert.equal(await page.textContent('[data-testid=profile-summary]'), 'Saved Ada Lovelace with 2 photos.')
  assert.deepEqual(await page.locator('[data-testid=profile-photo]').allTextContents(), [
    `engine.txt · 17 B · sha256 ${sha256('analytical engine').slice(0, 16)}…`,
    `note-g.txt · 8 B · sha256 ${sha256('# Note G').slice(0, 16)}…`
  ])
})

test('Generate & save downloads a file under the server\'s filename with the size asked for', async () => {
  const page = await browser.openPage(`${server.origin}/`)
  await page.fill('[data-testid=download-size]', '3')
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-testid=download-submit]')
  ])

  assert.equal(download.suggestedFilename(), 'formcall-3MB.bin')
  const path = await download.path()
  assert.equal((await stat(path)).size, 3 * MB)
  // files.generate repeats a 64 KiB block of "formcall " cut to the size.
  const block = Buffer.alloc(64 * 1024, 'formcall ')
  const expected = Buffer.concat(Array.from({ length: Math.ceil(3 * MB / block.length) }, () => block)).subarray(0, 3 * MB)
  assert.equal(sha256(await readFile(path)), sha256(expected))
  assert.equal(await page.textContent('[data-testid=download-status]'), 'Saved formcall-3MB.bin (3.0 MB).')
})

test('a page on another origin is refused by the demo server: 403 with -32010 for a multipart call, a refused preflight for a JSON call', async () => {
  const page = await browser.openPage(site.pageUrl)
  await page.waitForFunction(() => 'formcall' in window)
  const outcomes = await page.evaluate(async (rpcUrl) => {
    const { createClient, TransportError } = window.formcall
    const api = createClient<typeof demoMethods>(rpcUrl)
    const outcome = async (call: () => Promise<unknown>): Promise<string> => {
      try {
        return `resolved ${JSON.stringify(await call())}`
      } catch (err) {
        return err instanceof TransportError ? `TransportError ${err.kind}` : String(err)
      }
    }
    return {
      json: await outcome(async () => await api.math.add(1, 2)),
      multipart: await outcome(async () => await api.files.digestMany([new File(['x'], 'x.txt')]))
    }
  }, server.rpcUrl)

  // A browser does not show a page an answer the server did not allow it to read: both calls fail as `network`.
  assert.deepEqual(outcomes, { json: 'TransportError network', multipart: 'TransportError network' })
  // What the server answered: the JSON call's preflight refused (so its POST was never sent), the multipart POST
  // (a "simple" request, sent without a preflight) refused with ORIGIN_NOT_ALLOWED before any method ran.
  assert.deepEqual(server.answers.filter((answer) => answer.origin === site.origin), [
    { method: 'OPTIONS', origin: site.origin, contentType: undefined, status: 403, errorCode: undefined },
    { method: 'POST', origin: site.origin, contentType: 'multipart/form-data', status: 403, errorCode: -32010 }
  ])
})

test('a page on another origin listed in allowedOrigins makes JSON calls, multipart calls and downloads', async () => {
  const page = await browser.openPage(site.pageUrl)
  await page.waitForFunction(() => 'formcall' in window)
  const results = await page.evaluate(async (rpcUrl) => {
    const progress: Array<{ loaded: number, total: number }> = []
    const api = window.formcall.createClient<typeof demoMethods>(rpcUrl)
    const sum = await api.math.add(1, 2)
    const digests = await api.$with({ onUploadProgress: (event) => { progress.push(event) } })
      .files.digestMany([new File(['hello'], 'hello.txt', { type: 'text/plain' }), new Blob(['world'])])
    const download = await api.files.generate(1000, 'cross-origin.bin')
    return { sum, digests, lastProgress: progress.at(-1), download: { filename: download.filename, size: download.size } }
  }, allowing.rpcUrl)

  assert.equal(results.sum, 3)
  assert.deepEqual(results.digests, [
    { name: 'hello.txt', type: 'text/plain', size: 5, sha256: sha256('hello') },
    { name: 'blob', type: 'application/octet-stream', size: 5, sha256: sha256('world') }
  ])
  assert.ok(results.lastProgress !== undefined && results.lastProgress.loaded === results.lastProgress.total)
  assert.deepEqual(results.download, { filename: 'cross-origin.bin', size: 1000 })
  assert.ok(allowing.answers.some((answer) => answer.origin === site.origin && answer.method === 'OPTIONS' && answer.status === 204))
  assert.deepEqual(allowing.answers.filter((answer) => answer.origin === site.origin && answer.method === 'POST').map((answer) => answer.status),
    [200, 200, 200])
})
