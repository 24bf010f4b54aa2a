/**
 * Plain HTML forms with JavaScript turned off, in Debian's Chromium, against `createServer({ static })` serving the
 * form pages beside the methods (PROTOCOL.md section 13): the browser submits each form itself, follows the redirect
 * or shows the server's result and error pages; refused forms never run their method; scripts making the same calls
 * (Node, and the page's own fetch) still get JSON. Both isolation modes.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import type { Page, Response } from 'playwright-core'
import { randomContent, sha256 } from './support/bytes.js'
import { launchFormBrowser, type FormBrowser } from './support/html-form-browser.js'
import formMethods, { CALL_RECORDS_ENV, FORM_FAILURE_CODE, type CallRecord } from './support/html-form-methods.js'
import { screenshotInk } from './support/html-form-png.js'
import { formPage, MARK_FIELDS, OFF_SITE, startOtherSite, writeFormSite } from './support/html-form-site.js'
import { multipartBody, multipartType, type PartSpec } from './support/multipart.js'
import { rawRequest } from './support/raw-http.js'
import { startServer, type RunningServer } from './support/start-server.js'
import { startDemoServer, type DemoServer } from './support/browser-demo-server.js'
import { buildPage } from '../demo/serve.js'

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
const METHODS_MODULE = new URL('./support/html-form-methods.ts', import.meta.url)

/** The two files each digest form sends: a small text file and 300 KB of random bytes. */
const FILES = [
  { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('two files and three fields, no script\n') },
  { name: 'data.bin', mimeType: 'application/octet-stream', buffer: randomContent(300 * 1024) }
]
const TITLE = 'Quarterly figures'
const TAGS = ['finance', 'q3']
/** What `forms.digest` answers for the digest forms, filled in as {@link fillDigestForm} fills them. */
const DIGESTED = {
  title: TITLE,
  tags: TAGS,
  files: FILES.map(({ name, buffer }) => ({ name, size: buffer.length, sha256: sha256(buffer) }))
}

let browser: FormBrowser
let records: string
let pages: string

before(async () => {
  records = await mkdtemp(join(tmpdir(), 'formcall-form-records-'))
  pages = await mkdtemp(join(tmpdir(), 'formcall-form-pages-'))
  // Before any server starts: worker threads take the environment they are started with.
  process.env[CALL_RECORDS_ENV] = records
  await writeFormSite(pages)
  browser = await launchFormBrowser()
})
after(async () => {
  await browser?.close()
  delete process.env[CALL_RECORDS_ENV]
  await rm(records, { recursive: true, force: true })
  await rm(pages, { recursive: true, force: true })
})

/** The calls recorded so far (each method leaves one record as it returns), in no particular order. */
async function recorded (): Promise<CallRecord[]> {
  const names = await readdir(records)
  return await Promise.all(names.map(async (name) => JSON.parse(await readFile(join(records, name), 'utf8')) as CallRecord))
}

/** Fills the digest form (title, two tags, two files) as a person would. */
async function fillDigestForm (page: Page): Promise<void> {
  await page.fill('#title', TITLE)
  await page.fill('#tag-1', TAGS[0] as string)
  await page.fill('#tag-2', TAGS[1] as string)
  await page.setInputFiles('#files', FILES)
}

/** Submits the page's form by its button and resolves with the browser's answer from `url`, once the page shows it. */
async function submit (page: Page, url: string, button = '#send'): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse((response) => response.url() === url && response.request().method() === 'POST'),
    page.click(button)
  ])
  await page.waitForLoadState('load')
  return response
}

/** What the server's error page says: its kind, the code and the message. */
async function errorPage (page: Page): Promise<{ code: number, message: string }> {
  assert.equal(await page.locator('main[data-formcall="error"]').count(), 1, await page.content())
  assert.equal(await page.locator('a#back').count(), 1)
  return { code: Number(await page.textContent('code#error-code')), message: (await page.textContent('#error-message')) ?? '' }
}

/**
 * Submits the page's form and checks that the server refused it with an error page of `status` and `code`, and that
 * no method ran for it.
 */
async function assertRefusedPage (page: Page, url: string, status: number, code: number): Promise<void> {
  const before = (await recorded()).length
  const refused = await submit(page, url)
  assert.equal(refused.status(), status)
  assert.equal((await errorPage(page)).code, code)
  assert.equal((await recorded()).length, before, 'forms.mark ran')
}

for (const isolation of ['worker', 'inline'] as const) {
  describe(`plain HTML forms with JavaScript off (${isolation})`, () => {
    let server: RunningServer
    let page: Page

    before(async () => {
      server = await startServer({
        ...(isolation === 'worker' ? { methodsModule: METHODS_MODULE, workers: 2 } : { methods: formMethods, isolation }),
        static: { root: pages }
      })
    })
    after(async () => { await server?.close() })

    /** A new scriptless tab on `path` of the server. */
    const open = async (path: string): Promise<Page> => {
      page = await browser.scriptless.newPage()
      await page.goto(`${server.origin}${path}`)
      return page
    }

    it('uploads two files with the text fields and follows the redirect; the method got every field', async () => {
      await open('/upload.html')
      assert.equal(await page.getAttribute('html', 'data-scripts'), null, 'the page\'s script did not run')
      const before = (await recorded()).length
      await fillDigestForm(page)
      const answer = await submit(page, server.url)
      assert.equal(answer.status(), 303)
      assert.equal(page.url(), `${server.origin}/done.html`)
      assert.equal(await page.locator('main[data-page="done"]').count(), 1)
      const calls = await recorded()
      assert.equal(calls.length, before + 1)
      assert.ok(calls.some((call) => call.method === 'forms.digest' && isDeepStrictEqual(call.result, DIGESTED)), JSON.stringify(calls))
      await page.close()
    })

    it('without a redirect shows the server\'s result page: the result as JSON and a link back to the form', async () => {
      await open('/result.html')
      await fillDigestForm(page)
      const answer = await submit(page, server.url)
      assert.equal(answer.status(), 200)
      assert.match(answer.headers()['content-type'] ?? '', /^text\/html/)
      assert.equal(page.url(), server.url)
      assert.equal(await page.locator('main[data-formcall="result"]').count(), 1)
      assert.deepEqual(JSON.parse(await page.textContent('pre#result') ?? ''), DIGESTED)
      assert.equal(await page.getAttribute('a#back', 'href'), '/result.html')

      await keepScreenshot(page, `html-form-result-${isolation}.png`)
      await Promise.all([page.waitForURL(`${server.origin}/result.html`), page.click('a#back')])
      await page.close()
    })

    it('shows error pages with the code\'s status: a schema\'s refusal and the method\'s own RpcError', async () => {
      await open('/result.html')
      await fillDigestForm(page)
      await page.fill('#title', 'x'.repeat(41))
      const refused = await submit(page, server.url)
      assert.equal(refused.status(), 400)
      const schema = await errorPage(page)
      assert.equal(schema.code, -32602)
      assert.notEqual(schema.message, '')
      await page.close()

      await open('/fail.html')
      const failed = await submit(page, server.url)
      assert.equal(failed.status(), 400)
      assert.deepEqual(await errorPage(page), { code: FORM_FAILURE_CODE, message: 'the form asked to fail: on purpose' })
      await page.close()
    })

    it(`refuses a redirect to another site (${OFF_SITE}) with an error page; the method does not run`, async () => {
      await open('/off-site.html')
      await page.setInputFiles('#attachment', [FILES[0] as (typeof FILES)[number]])
      await assertRefusedPage(page, server.url, 400, -32600)
      assert.equal(page.url(), server.url, 'the browser stayed on the server')
      await page.close()
    })

    for (const [what, path] of [['a file input before the json input', '/file-first.html'], ['a form without a json input', '/no-json.html']]) {
      it(`refuses ${what} with an error page; the method does not run`, async () => {
        await open(path as string)
        await page.setInputFiles('#attachment', [FILES[0] as (typeof FILES)[number]])
        await assertRefusedPage(page, server.url, 400, -32600)
        await page.close()
      })
    }

    it('refuses a form on another origin that posts here with a 403 page; the method does not run', async () => {
      const site = await startOtherSite(formPage({ action: server.url, call: { method: 'forms.mark' }, fields: MARK_FIELDS }))
      try {
        page = await browser.scriptless.newPage()
        await page.goto(`${site.origin}/`)
        await assertRefusedPage(page, server.url, 403, -32010)
        await page.close()
      } finally {
        await site.close()
      }
    })

    it('answers scripts making the same calls with JSON: a POST from Node and the page\'s own fetch', async () => {
      const parts: PartSpec[] = [
        { name: 'json', content: JSON.stringify({ method: 'forms.digest', redirect: '/done.html' }) },
        { name: 'title', content: TITLE },
        ...TAGS.map((tag) => ({ name: 'tags', content: tag })),
        ...FILES.map(({ name, mimeType, buffer }) => ({ name: 'files', filename: name, type: mimeType, content: buffer }))
      ]
      const fromNode = await rawRequest(server.url, { headers: { 'Content-Type': multipartType('node') }, body: multipartBody('node', parts) })
      assert.equal(fromNode.status, 200, fromNode.text)
      assert.match(fromNode.headers['content-type'] ?? '', /^application\/json/)
      assert.deepEqual(fromNode.json().result, DIGESTED)

      const before = (await recorded()).length
      const offSite = await rawRequest(server.url, {
        headers: { 'Content-Type': multipartType('node') },
        body: multipartBody('node', [{ name: 'json', content: JSON.stringify({ method: 'forms.mark', redirect: OFF_SITE }) }, { name: 'note', content: 'x' }])
      })
      assert.equal(offSite.status, 400, offSite.text)
      assert.equal(offSite.json().error.code, -32600)
      assert.equal((await recorded()).length, before, 'forms.mark ran')

      const scripted = await browser.scripted.newPage()
      await scripted.goto(`${server.origin}/upload.html`)
      assert.equal(await scripted.getAttribute('html', 'data-scripts'), 'ran')
      await fillDigestForm(scripted)
      const fetched = await scripted.evaluate(async () => {
        const response = await fetch('/rpc', { method: 'POST', body: new FormData(document.querySelector('form') as HTMLFormElement) })
        return { status: response.status, redirected: response.redirected, type: response.headers.get('content-type'), body: await response.json() }
      })
      assert.equal(fetched.status, 200)
      assert.equal(fetched.redirected, false)
      assert.match(fetched.type ?? '', /^application\/json/)
      assert.deepEqual(fetched.body.result, DIGESTED)
      await scripted.close()
    })
  })
}

describe('the demo\'s page for browsers without JavaScript', () => {
  let pageDir: string
  let demo: DemoServer

  before(async () => {
    pageDir = await mkdtemp(join(tmpdir(), 'formcall-demo-page-'))
    await buildPage({ outDir: pageDir })
    demo = await startDemoServer({ pageDir })
  })
  after(async () => {
    await demo?.close()
    if (pageDir !== undefined) await rm(pageDir, { recursive: true, force: true })
  })

  it('is linked from the scripted page and links back; its form uploads files and shows their digests on the result page', async () => {
    const page = await browser.scriptless.newPage()
    await page.goto(`${demo.origin}/`)
    await Promise.all([page.waitForURL(`${demo.origin}/no-js.html`), page.click('[data-testid=no-js-link]')])
    assert.equal(await page.getAttribute('[data-testid=scripted-link]', 'href'), './')
    // Styled like the scripted page: its stylesheet came from the same build.
    assert.equal(await page.locator('link[rel=stylesheet]').count(), 1)

    await page.fill('[data-testid=plain-title]', 'Holiday photos')
    await page.fill('[data-testid=plain-note]', 'two of them')
    await page.setInputFiles('[data-testid=plain-files]', FILES)
    const answer = await submit(page, demo.rpcUrl, '[data-testid=plain-submit]')
    assert.equal(answer.status(), 200)
    assert.deepEqual(JSON.parse(await page.textContent('pre#result') ?? ''), {
      title: 'Holiday photos',
      note: 'two of them',
      files: FILES.map(({ name, mimeType, buffer }) => ({ name, type: mimeType, size: buffer.length, sha256: sha256(buffer) }))
    })
    await keepScreenshot(page, 'demo-no-js-result.png')
    await Promise.all([page.waitForURL(`${demo.origin}/no-js.html`), page.click('a#back')])
    await page.close()
  })

  it('shows a schema\'s refusal of the demo form as an error page', async () => {
    const page = await browser.scriptless.newPage()
    await page.goto(`${demo.origin}/no-js.html`)
    await page.fill('[data-testid=plain-title]', 'a title far longer than the forty characters it may have')
    await page.setInputFiles('[data-testid=plain-files]', [FILES[0] as (typeof FILES)[number]])
    const answer = await submit(page, demo.rpcUrl, '[data-testid=plain-submit]')
    assert.equal(answer.status(), 400)
    assert.equal((await errorPage(page)).code, -32602)
    await page.close()
  })
})

/**
 * Keeps a screenshot of `page` under test-artifacts/ and checks that it shows something: its pixels, decoded, have
 * text's many colours and ink over part of the page, where a blank tab of the same size is one colour.
 */
async function keepScreenshot (page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true })
  await mkdir(ARTIFACTS, { recursive: true })
  await writeFile(join(ARTIFACTS, name), png)
  const blankTab = await browser.scriptless.newPage()
  const blank = screenshotInk(await blankTab.screenshot())
  await blankTab.close()
  assert.deepEqual({ colours: blank.colours, inked: blank.inked }, { colours: 1, inked: 0 }, 'a blank tab is one colour')
  const shown = screenshotInk(png)
  assert.equal(shown.width, 1000)
  assert.ok(shown.colours > 100, `the screenshot has ${shown.colours} distinct colours`)
  assert.ok(shown.inked > 0.01, `${(shown.inked * 100).toFixed(2)}% of the screenshot is not background`)
}
