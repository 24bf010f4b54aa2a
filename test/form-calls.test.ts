/**
 * Plain HTML forms as calls (PROTOCOL.md section 13), over real HTTP in both modes: a form's fields as named params,
 * answers for browser navigations (a redirect or a page) beside the usual JSON for scripts, and the refusals.
 * (Chromium with JavaScript off drives the same server in html-forms.test.ts.)
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import methods from './support/form-methods.js'
import { startServer, type RunningServer } from './support/start-server.js'
import { multipartBody, multipartType, type PartSpec } from './support/multipart.js'
import { rawRequest, type RawResponse } from './support/raw-http.js'
import { waitFor } from './support/wait.js'

const FORM_METHODS = new URL('./support/form-methods.ts', import.meta.url)
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(100)])
/** What Chromium sends for a form submission. */
const NAVIGATION = { 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document', Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }

async function postForm (server: RunningServer, parts: PartSpec[], headers: Record<string, string> = {}): Promise<RawResponse> {
  return await rawRequest(server.url, {
    headers: { 'Content-Type': multipartType('form-boundary'), ...headers },
    body: multipartBody('form-boundary', parts)
  })
}

const json = (call: unknown): PartSpec => ({ name: 'json', content: JSON.stringify(call) })
const text = (name: string, value: string): PartSpec => ({ name, content: value })
const upload = (name: string, filename: string, content: Buffer | string, type = 'application/octet-stream'): PartSpec =>
  ({ name, filename, type, content })

async function callCount (server: RunningServer): Promise<number> {
  return (await rawRequest(server.url, { headers: { 'Content-Type': 'application/json' }, body: '{"method":"forms.calls"}' })).json().result
}

const MODES = [
  { mode: 'inline', start: async (extra = {}) => await startServer({ methods, ...extra }) },
  { mode: 'worker', start: async (extra = {}) => await startServer({ methodsModule: FORM_METHODS, workers: 1, ...extra }) }
] as const

for (const { mode, start } of MODES) {
  describe(`form calls (${mode})`, () => {
    let server: RunningServer
    before(async () => { server = await start() })
    after(async () => await server.close())

    test('a form whose json names only the method: text fields, two files under one name, one under another, an empty file input', async () => {
      const res = await postForm(server, [
        json({ method: 'forms.echo' }),
        text('title', 'holiday'),
        upload('photos', 'a.bin', 'aaaa'),
        upload('photos', 'b.bin', 'bb'),
        text('tag', 'sea'),
        text('tag', 'sun'),
        upload('cv', 'cv.txt', 'hello', 'text/plain'),
        upload('empty', '', '')
      ])
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(res.json().result, {
        title: 'holiday',
        tag: ['sea', 'sun'],
        photos: { files: [{ file: 'a.bin', type: 'application/octet-stream', size: 4 }, { file: 'b.bin', type: 'application/octet-stream', size: 2 }] },
        cv: { file: 'cv.txt', type: 'text/plain', size: 5 }
      })
    })

    test('a declared method gets its declared kinds: a files() param is a list of one, text coerced by its schema', async () => {
      const res = await postForm(server, [
        json({ method: 'forms.profile' }), text('name', 'ada'), text('age', '36'),
        upload('photo', 'p.png', PNG, 'image/png'), upload('docs', 'd.txt', 'doc', 'text/plain')
      ])
      assert.deepEqual(res.json().result, {
        name: 'ada', age: 36, photo: { file: 'p.png', type: 'image/png', size: PNG.length }, docs: { files: [{ file: 'd.txt', type: 'text/plain', size: 3 }] }
      })
    })

    /** [what, the form's parts after json, the code] */
    const REFUSED: Array<[string, PartSpec[], number]> = [
      ['a schema refusal of a text field', [text('name', ''), text('age', '1'), upload('photo', 'p.png', PNG, 'image/png')], -32602],
      ['two files for a file() param', [text('name', 'a'), text('age', '1'), upload('photo', 'p.png', PNG, 'image/png'), upload('photo', 'q.png', PNG, 'image/png')], -32602],
      ['a file over its maxSize', [text('name', 'a'), text('age', '1'), upload('photo', 'p.png', Buffer.concat([PNG, Buffer.alloc(5000)]), 'image/png')], -32004],
      ['a file of a type its param refuses', [text('name', 'a'), text('age', '1'), upload('photo', 'p.gif', 'GIF89a', 'image/gif')], -32020],
      ['a field the method does not declare', [text('name', 'a'), text('age', '1'), text('admin', 'yes'), upload('photo', 'p.png', PNG, 'image/png')], -32602]
    ]
    for (const [what, parts, code] of REFUSED) {
      test(`refused before the method runs: ${what}`, async () => {
        const before = await callCount(server)
        const res = await postForm(server, [json({ method: 'forms.profile' }), ...parts])
        assert.equal(res.json().error.code, code, res.text)
        assert.equal(await callCount(server), before, 'the method did not run')
        // The spool files go when the exchange is over, which may be just after the client has the answer.
        await waitFor(async () => (await server.tmpFiles()).length === 0, 'the spool directory to be empty')
      })
    }

    test('an urlencoded form whose json names only the method takes its other fields', async () => {
      const res = await rawRequest(server.url, {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams([['json', '{"method":"forms.echo"}'], ['a', '1'], ['b', 'x'], ['b', 'y']]).toString()
      })
      assert.deepEqual(res.json().result, { a: '1', b: ['x', 'y'] })
    })

    test('a navigation gets its result as a page, escaped, with a link back to the form\'s page', async () => {
      const res = await postForm(server, [json({ method: 'forms.echo' }), text('note', '<script>alert(1)</script>')],
        { ...NAVIGATION, Referer: `${server.origin}/form.html?x=1` })
      assert.equal(res.status, 200)
      assert.match(res.headers['content-type'] ?? '', /^text\/html/)
      assert.match(res.text, /<main data-formcall="result">/)
      assert.match(res.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
      assert.doesNotMatch(res.text, /<script>/)
      assert.match(res.text, /<a id="back" href="\/form.html\?x=1">/)
      assert.match(res.headers['content-security-policy'] ?? '', /default-src 'none'/)
    })

    test('a navigation whose call names redirect is sent there with 303; errorRedirect for an error', async () => {
      const done = await postForm(server, [json({ method: 'forms.echo', redirect: '/done.html', errorRedirect: '/sorry.html' })], NAVIGATION)
      assert.deepEqual([done.status, done.headers.location], [303, '/done.html'])
      const failed = await postForm(server, [json({ method: 'forms.fail', redirect: '/done.html', errorRedirect: '/sorry.html' })], NAVIGATION)
      assert.deepEqual([failed.status, failed.headers.location], [303, '/sorry.html'])
    })

    test('a navigation\'s error without errorRedirect is a page with its message (escaped), code and status', async () => {
      const res = await postForm(server, [json({ method: 'forms.fail' })], NAVIGATION)
      assert.equal(res.status, 400)
      assert.match(res.text, /<main data-formcall="error">/)
      assert.match(res.text, /<p id="error-message">refused: &lt;b&gt;not&lt;\/b&gt; &quot;this&quot; &amp; that<\/p>/)
      assert.match(res.text, /<code id="error-code">4005<\/code>/)
    })

    test('the same calls from scripts get JSON envelopes, as before', async () => {
      const res = await postForm(server, [json({ method: 'forms.fail', errorRedirect: '/sorry.html' })], { Accept: '*/*', 'Sec-Fetch-Mode': 'cors' })
      assert.equal(res.status, 400)
      assert.equal(res.json().error.code, 4005)
      const ok = await postForm(server, [json({ method: 'forms.echo', redirect: '/done.html' }), text('a', 'b')])
      assert.deepEqual(ok.json().result, { a: 'b' })
    })

    /** [what, redirect] */
    const OFF_SITE: Array<[string, unknown]> = [
      ['another site', 'https://evil.example/'],
      ['a protocol-relative address', '//evil.example/x'],
      ['a backslash browsers read as a slash', '/\\evil.example'],
      ['a relative path', 'done.html'],
      ['a javascript: URL', 'javascript:alert(1)'],
      ['a path with a space', '/a b'],
      ['not a string', 42]
    ]
    for (const [what, redirect] of OFF_SITE) {
      test(`a redirect to ${what} is refused before the method runs: an HTML page for navigations, JSON for scripts`, async () => {
        const before = await callCount(server)
        const page = await postForm(server, [json({ method: 'forms.echo', redirect }), text('a', 'b')], NAVIGATION)
        assert.equal(page.status, 400)
        assert.match(page.text, /<code id="error-code">-32600<\/code>/)
        assert.equal(page.headers.location, undefined)
        const script = await postForm(server, [json({ method: 'forms.echo', errorRedirect: redirect })])
        assert.equal(script.json().error.code, -32600)
        assert.equal(await callCount(server), before)
      })
    }

    test('refusals before the call is read are pages for navigations too: file input before json, no json at all, another origin', async () => {
      const fileFirst = await postForm(server, [upload('f', 'a.txt', 'x'), json({ method: 'forms.echo' })], NAVIGATION)
      assert.equal(fileFirst.status, 400)
      assert.match(fileFirst.text, /<code id="error-code">-32600<\/code>/)
      const noJson = await postForm(server, [text('title', 'x')], NAVIGATION)
      assert.match(noJson.text, /<code id="error-code">-32600<\/code>/)
      const crossOrigin = await postForm(server, [json({ method: 'forms.echo' })], { ...NAVIGATION, Origin: 'https://elsewhere.example', 'Sec-Fetch-Site': 'cross-site' })
      assert.equal(crossOrigin.status, 403)
      assert.match(crossOrigin.text, /<code id="error-code">-32010<\/code>/)
    })
  })
}

describe('formRedirects narrows the paths a form may name', () => {
  let server: RunningServer
  before(async () => { server = await startServer({ methods, formRedirects: ['/forms/'] }) })
  after(async () => await server.close())

  test('a path under a prefix is followed; another path of the site is refused', async () => {
    const ok = await postForm(server, [json({ method: 'forms.echo', redirect: '/forms/done.html' })], NAVIGATION)
    assert.deepEqual([ok.status, ok.headers.location], [303, '/forms/done.html'])
    const other = await postForm(server, [json({ method: 'forms.echo', redirect: '/admin' })])
    assert.equal(other.json().error.code, -32600)
    assert.match(other.json().error.message, /formRedirects/)
  })

  test('a prefix that is not a path of the site is refused at start', async () => {
    await assert.rejects(startServer({ methods, formRedirects: ['https://evil.example/'] }), /formRedirects/)
  })
})
