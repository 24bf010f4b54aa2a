import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { createServer } from '@formcall/server'
import { randomContent, sha256 } from './support/bytes.js'
import { CLI_FROM_SOURCE, REPO_ROOT, startChild, type Child } from './support/child-process.js'
import { multipartBody, multipartType } from './support/multipart.js'
import { openRequest, postJson, rawRequest } from './support/raw-http.js'

const LISTENING = /formcall listening on (http:\/\/\S+)/

/** Methods modules in the three forms the CLI loads. */
const MODULES = {
  /** CommonJS .js: `module.exports` is the methods object. */
  'methods.js': `
const { createHash } = require('node:crypto')
module.exports = {
  greet: (name) => 'hello ' + name + ' from .js',
  math: { add: (a, b) => a + b },
  digest: async (file) => {
    const hash = createHash('sha256')
    for await (const chunk of file) hash.update(chunk)
    return { name: file.filename, sha256: hash.digest('hex') }
  }
}
`,
  'methods.mjs': `
import { createHash } from 'node:crypto'
export default {
  greet: (name) => \`hello \${name} from .mjs\`,
  math: { add: (a, b) => a + b },
  digest: async (file) => {
    const hash = createHash('sha256')
    for await (const chunk of file) hash.update(chunk)
    return { name: file.filename, sha256: hash.digest('hex') }
  }
}
`,
  'methods.ts': `
import { createHash } from 'node:crypto'
import type { UploadedFile } from '@formcall/server'

interface Greeting { text: string }

function greeting (name: string): Greeting {
  return { text: \`hello \${name} from .ts\` }
}

export default {
  greet: (name: string): string => greeting(name).text,
  math: { add: (a: number, b: number): number => a + b },
  digest: async (file: UploadedFile): Promise<{ name: string | null, sha256: string }> => {
    const hash = createHash('sha256')
    for await (const chunk of file) hash.update(chunk as Buffer)
    return { name: file.filename, sha256: hash.digest('hex') }
  }
}
`
} as const

async function exercise (url: string, extension: string): Promise<void> {
  const greet = await postJson(url, { method: 'greet', params: ['cli'], id: 1 })
  assert.equal(greet.status, 200, greet.text)
  assert.deepEqual(greet.json(), { jsonrpc: '2.0', id: 1, result: `hello cli from ${extension}` })
  assert.equal((await postJson(url, { method: 'math.add', params: [2, 3] })).json().result, 5)

  const content = randomContent(512 * 1024)
  const upload = await rawRequest(url, {
    headers: { 'Content-Type': multipartType('cli') },
    body: multipartBody('cli', [
      { name: 'json', content: JSON.stringify({ method: 'digest', params: [{ $file: 'f' }] }) },
      { name: 'f', filename: 'upload.bin', content }
    ])
  })
  assert.equal(upload.status, 200, upload.text)
  assert.deepEqual(upload.json().result, { name: 'upload.bin', sha256: sha256(content) })
  assert.equal((await postJson(url, { method: 'toString' })).status, 404)
}

/** The folder `--static` serves in these tests; `rpc` is a file at the methods' path, which must not be served. */
const PAGES: Record<string, string> = {
  'index.html': '<!doctype html><title>home</title><form method="post" enctype="multipart/form-data" action="/rpc"></form>\n',
  'assets/site.css': 'body { color: #123; }\n',
  'done/ok.html': '<!doctype html><title>sent</title><p>Thank you.</p>\n',
  rpc: 'a file where the methods are\n'
}

/** A form call as a browser sends it when a person submits the form: a top-level navigation from `origin`. */
async function navigate (url: string, origin: string, call: unknown): Promise<Awaited<ReturnType<typeof rawRequest>>> {
  return await rawRequest(url, {
    headers: {
      'Content-Type': multipartType('nav'),
      Origin: origin,
      'Sec-Fetch-Mode': 'navigate',
      Accept: 'text/html,application/xhtml+xml,*/*;q=0.8'
    },
    body: multipartBody('nav', [{ name: 'json', content: JSON.stringify(call) }])
  })
}

describe('the formcall command line', () => {
  let dir = ''
  const children: Child[] = []

  /** Where the module `name` lives: a project directory of its own, as a user's would be. */
  const modulePath = (name: keyof typeof MODULES): string => join(dir, name.replace('.', '-'), name)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'formcall-cli-'))
    for (const [name, source] of Object.entries(MODULES) as Array<[keyof typeof MODULES, string]>) {
      await mkdir(join(dir, name.replace('.', '-')))
      await writeFile(modulePath(name), source)
    }
    // The .js module is CommonJS (no package.json says otherwise); the .ts one sits in an ESM project.
    await writeFile(join(dir, 'methods-ts', 'package.json'), JSON.stringify({ type: 'module' }))
    for (const [name, content] of Object.entries(PAGES)) {
      await mkdir(join(dir, 'public', name, '..'), { recursive: true })
      await writeFile(join(dir, 'public', name), content)
    }
  })
  after(async () => {
    for (const child of children) await child.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const serve = (args: string[]): Child => {
    const child = startChild(process.execPath, [...CLI_FROM_SOURCE, 'serve', ...args])
    children.push(child)
    return child
  }

  for (const name of Object.keys(MODULES) as Array<keyof typeof MODULES>) {
    const extension = name.slice(name.indexOf('.'))
    it(`serves a ${extension} methods module in a worker on --port 0, answers calls with files, and exits 0 on SIGTERM`, async () => {
      // One worker: each worker boots its own TypeScript loader, and this is about loading modules, not pool size.
      const child = serve([modulePath(name), '--port', '0', '--workers', '1'])
      const [, url] = await child.line(LISTENING)
      assert.match(url as string, /^http:\/\/127\.0\.0\.1:\d+\/rpc$/)
      assert.match(child.output(), /greet/, 'the start-up line lists the methods')
      await exercise(url as string, extension)
      child.process.kill('SIGTERM')
      assert.equal(await child.exited, 0, child.output())
    })
  }

  it('serves methods in the server\'s own thread with --isolation inline', async () => {
    const child = serve([modulePath('methods.ts'), '--port', '0', '--isolation', 'inline'])
    const [, url] = await child.line(LISTENING)
    await exercise(url as string, '.ts')
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0, child.output())
  })

  it('applies --path, --limit and --enable-get', async () => {
    const child = serve([modulePath('methods.mjs'), '--port', '0', '--isolation', 'inline', '--path', '/api/call', '--limit', 'callSize=64', '--enable-get'])
    const [, url] = await child.line(LISTENING)
    assert.match(url as string, /\/api\/call$/)
    const get = await rawRequest(url as string, { method: 'GET', target: '/api/call?json=' + encodeURIComponent('{"method":"math.add","params":[1,2]}') })
    assert.equal(get.json().result, 3)
    const big = await postJson(url as string, { method: 'greet', params: ['x'.repeat(100)] })
    assert.equal(big.status, 413)
    assert.equal(big.json().error.data.limit, 'callSize')
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0, child.output())
  })

  it('serves the --static folder (a path relative to the working directory) at / beside the methods: pages, assets, 404s, the RPC path kept, other origins refused', async () => {
    const pages = relative(REPO_ROOT, join(dir, 'public'))
    const child = serve([modulePath('methods.mjs'), '--port', '0', '--workers', '1', '--static', pages])
    const [, url] = await child.line(LISTENING)
    const origin = new URL(url as string).origin
    assert.match(child.output(), new RegExp(`pages from ${escape(pages)} at ${escape(origin)}/`))
    const page = async (path: string, method = 'GET'): Promise<Awaited<ReturnType<typeof rawRequest>>> =>
      await rawRequest(origin + path, { method })

    for (const path of ['/', '/index.html']) {
      const index = await page(path)
      assert.equal(index.status, 200, `${path}: ${index.text}`)
      assert.match(index.headers['content-type'] ?? '', /^text\/html/)
      assert.equal(index.text, PAGES['index.html'])
    }
    const css = await page('/assets/site.css')
    assert.equal(css.status, 200)
    assert.match(css.headers['content-type'] ?? '', /^text\/css/)
    assert.equal(css.text, PAGES['assets/site.css'])
    // fetch, not rawRequest: a HEAD answer announces a Content-Length it sends no body for.
    const head = await fetch(`${origin}/assets/site.css`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(PAGES['assets/site.css'] as string)))
    for (const [path, method] of [['/missing.html', 'GET'], ['/assets/', 'GET'], ['/index.html', 'POST']] as const) {
      const missing = await page(path, method)
      assert.equal(missing.status, 404, `${method} ${path}: ${missing.text}`)
      assert.equal(missing.json().statusCode, 404)
    }
    // A page request with a body nobody reads is answered, and its connection closed rather than left to the body.
    const withBody = await openRequest(`${origin}/index.html`, { method: 'GET', headers: { 'Content-Length': '100', Connection: 'keep-alive' } })
    await withBody.write('a body that never ends')
    // The response resolves once the server closes the connection; a connection left open would hang the test.
    const held = setTimeout(() => withBody.destroy(), 10_000)
    const answered = await withBody.response.finally(() => clearTimeout(held))
    assert.equal(answered.status, 200)
    assert.equal(answered.headers.connection, 'close')
    // The methods' path is theirs: the file named rpc in the folder is not what GET /rpc answers.
    const get = await page('/rpc')
    assert.equal(get.status, 405, get.text)
    assert.equal(get.json().error.code, -32014)

    await exercise(url as string, '.mjs')
    const ownPage = await postJson(url as string, { method: 'math.add', params: [1, 2] }, { Origin: origin })
    assert.equal(ownPage.json().result, 3, ownPage.text)
    const otherSite = await postJson(url as string, { method: 'math.add', params: [1, 2] }, { Origin: 'http://evil.example' })
    assert.equal(otherSite.status, 403, otherSite.text)
    assert.equal(otherSite.json().error.code, -32010)
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0, child.output())
  })

  it('--form-redirect bounds where a form\'s redirect and errorRedirect may send the browser', async () => {
    const child = serve([modulePath('methods.mjs'), '--port', '0', '--isolation', 'inline', '--static', join(dir, 'public'),
      '--form-redirect', '/done/', '--form-redirect', '/thanks/'])
    const [, url] = await child.line(LISTENING)
    const origin = new URL(url as string).origin

    const sent = await navigate(url as string, origin, { method: 'greet', params: ['form'], redirect: '/done/ok.html' })
    assert.equal(sent.status, 303, sent.text)
    assert.equal(sent.headers.location, '/done/ok.html')
    const failed = await navigate(url as string, origin, { method: 'nope', errorRedirect: '/thanks/oops.html' })
    assert.equal(failed.status, 303, failed.text)
    assert.equal(failed.headers.location, '/thanks/oops.html')

    // Under / but not under a --form-redirect prefix: refused before the method runs, as a page for the person.
    const outside = await navigate(url as string, origin, { method: 'greet', params: ['form'], redirect: '/index.html' })
    assert.equal(outside.status, 400, outside.text)
    assert.match(outside.headers['content-type'] ?? '', /^text\/html/)
    assert.match(outside.text, /<code id="error-code">-32600<\/code>/)
    child.process.kill('SIGTERM')
    assert.equal(await child.exited, 0, child.output())
  })

  it('exits non-zero with a message naming a methods module that does not exist', async () => {
    const child = serve([join(dir, 'no-such-methods.mjs'), '--port', '0'])
    assert.notEqual(await child.exited, 0)
    assert.match(child.output(), /no-such-methods\.mjs/)
  })

  it('`pnpm formcall serve ./some/methods.mjs --port N` works from the workspace root', async () => {
    // A path relative to the root, as a user types it there (test/.tmp is ignored by git).
    const scratch = join(REPO_ROOT, 'test', '.tmp')
    const createdScratch = await mkdir(scratch, { recursive: true }) !== undefined
    const local = join(scratch, `cli-${process.pid}`)
    await mkdir(local)
    try {
      await writeFile(join(local, 'methods.mjs'), MODULES['methods.mjs'])
      const relativePath = './' + relative(REPO_ROOT, join(local, 'methods.mjs'))
      // Detached: pnpm, its shell and node form one process group, stopped together below.
      const child = startChild('npx', ['--yes', 'pnpm@10.34.9', 'formcall', 'serve', relativePath, '--port', '0', '--workers', '1'], { detached: true })
      try {
        const [, url] = await child.line(LISTENING)
        await exercise(url as string, '.mjs')
      } finally {
        if (child.process.pid !== undefined) {
          try {
            process.kill(-child.process.pid, 'SIGTERM')
          } catch {}
        }
        await child.exited
      }
    } finally {
      await rm(local, { recursive: true, force: true })
      if (createdScratch) await rmdir(scratch).catch(() => {})
    }
  })
})

/** Stands for the path of a valid methods module in the argv rows below. */
const MODULE = '<module>'

/** Command lines the CLI refuses before loading anything: exit code 2 and one line naming the flag and what it takes. */
const USAGE_ERRORS: Array<{ argv: string[], message: RegExp }> = [
  { argv: [], message: /^formcall: missing the command \(serve or describe\): formcall serve <methods-module> \[options\]; see formcall --help$/ },
  { argv: ['serve'], message: /^formcall: serve needs the methods module: formcall serve <methods-module> \[options\]$/ },
  { argv: ['start', 'x'], message: /^formcall: unknown command "start"; the commands are serve and describe: formcall serve <methods-module>/ },
  { argv: ['describe'], message: /^formcall: describe needs the methods module: formcall describe <methods-module> \[--title T\]/ },
  { argv: ['describe', MODULE, 'extra.mjs'], message: /^formcall: unexpected argument "extra\.mjs": describe takes one methods module/ },
  { argv: ['describe', MODULE, '--port', '8080'], message: /^formcall: --port is an option of serve; describe takes --title, --api-version and --description$/ },
  { argv: ['describe', MODULE, '--title', ' '], message: /^formcall: --title must not be empty$/ },
  { argv: ['serve', MODULE, '--no-discover', '--title', 'files'], message: /^formcall: --title describes the discovery document, which --no-discover turns off$/ },
  { argv: ['serve', MODULE, '--api-version', ''], message: /^formcall: --api-version must not be empty$/ },
  { argv: ['serve', MODULE, 'extra.mjs'], message: /^formcall: unexpected argument "extra\.mjs": serve takes one methods module/ },
  { argv: ['serve', MODULE, '--foo'], message: /^formcall: unknown option --foo; see formcall --help$/ },
  { argv: ['serve', MODULE, '-x'], message: /^formcall: unknown option -x; see formcall --help$/ },
  { argv: ['serve', MODULE, '--port'], message: /^formcall: --port needs a value/ },
  { argv: ['serve', MODULE, '--enable-get=yes'], message: /^formcall: --enable-get takes no value; see formcall --help$/ },
  { argv: ['serve', MODULE, '--port', 'http'], message: /^formcall: --port must be a whole number from 0 to 65535 \(0 picks a free port\), got "http"$/ },
  { argv: ['serve', MODULE, '--port', '65536'], message: /^formcall: --port must be a whole number from 0 to 65535 .*, got "65536"$/ },
  // Number('') is 0: an empty port must not quietly pick a free one.
  { argv: ['serve', MODULE, '--port', ''], message: /^formcall: --port must be a whole number from 0 to 65535 .*, got ""$/ },
  { argv: ['serve', MODULE, '--workers', '0'], message: /^formcall: --workers must be a whole number >= 1, got "0"$/ },
  { argv: ['serve', MODULE, '--workers', '2.5'], message: /^formcall: --workers must be a whole number >= 1, got "2\.5"$/ },
  { argv: ['serve', MODULE, '--max-queue', 'many'], message: /^formcall: --max-queue must be a whole number >= 0, got "many"$/ },
  { argv: ['serve', MODULE, '--call-timeout', '1e3'], message: /^formcall: --call-timeout must be a whole number from 0 to 2147483647 milliseconds \(0 = no timeout\), got "1e3"$/ },
  { argv: ['serve', MODULE, '--call-timeout', '2147483648'], message: /^formcall: --call-timeout must be a whole number from 0 to 2147483647 .*, got "2147483648"$/ },
  { argv: ['serve', MODULE, '--max-heap-mb', '0'], message: /^formcall: --max-heap-mb must be a whole number >= 1, got "0"$/ },
  { argv: ['serve', MODULE, '--calls-per-worker', '0'], message: /^formcall: --calls-per-worker must be a whole number >= 1, got "0"$/ },
  { argv: ['serve', MODULE, '--idle-upload-timeout=-5'], message: /^formcall: --idle-upload-timeout must be a whole number from 0 to 2147483647 milliseconds \(0 = off\), got "-5"$/ },
  { argv: ['serve', MODULE, '--log-level', 'verbose'], message: /^formcall: --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/ },
  { argv: ['serve', MODULE, '--isolation', 'thread'], message: /^formcall: --isolation must be worker or inline, got "thread"$/ },
  { argv: ['serve', MODULE, '--limit', 'fileSzie=10'], message: /^formcall: --limit fileSzie=10: unknown limit "fileSzie"; the limits are callSize, fileSize, files, parts, fieldSize, partHeaderSize, spoolSize, batchSize$/ },
  { argv: ['serve', MODULE, '--limit', 'fileSize=10MB'], message: /^formcall: --limit fileSize must be a whole number >= 0 \(bytes, or a count\), got "10MB"$/ },
  { argv: ['serve', MODULE, '--limit', 'fileSize'], message: /^formcall: --limit must be NAME=VALUE with NAME one of callSize, .*, got "fileSize"$/ },
  { argv: ['serve', MODULE, '--host', ''], message: /^formcall: --host must not be empty; give an address to listen on/ },
  { argv: ['serve', MODULE, '--path', 'rpc'], message: /^formcall: --path must start with "\/", e\.g\. \/rpc, got "rpc"$/ },
  { argv: ['serve', MODULE, '--static', ''], message: /^formcall: --static must be a directory path: the folder of pages to serve$/ },
  { argv: ['serve', MODULE, '--static'], message: /^formcall: --static needs a value/ },
  { argv: ['serve', MODULE, '--form-redirect', 'done/'], message: /^formcall: --form-redirect must be a path prefix of this server starting with one "\/", e\.g\. \/done\/, got "done\/"$/ },
  { argv: ['serve', MODULE, '--form-redirect', '//evil.example/'], message: /^formcall: --form-redirect must be a path prefix .*, got "\/\/evil\.example\/"$/ }
]

/** Methods modules the server refuses at start, in both isolation modes; `message` must name the file. */
const BAD_MODULES: Array<{ what: string, name: string, source: string, message: (file: string) => RegExp }> = [
  {
    what: 'a module whose default export is a number',
    name: 'number.mjs',
    source: 'export default 42\n',
    message: (file) => new RegExp(`^formcall: methods module ${escape(file)} offers no method: its default export \\(else its named exports\\) must be an object of functions`)
  },
  {
    what: 'a module that exports only values',
    name: 'values.mjs',
    source: 'export const version = "1.0"\nexport const settings = { debug: true }\n',
    message: (file) => new RegExp(`^formcall: methods module ${escape(file)} offers no method`)
  },
  {
    what: 'an ES module with a syntax error',
    name: 'broken.mjs',
    source: 'export default {\n  greet: (name) => name,\n  add: (a, b => a + b\n}\n',
    message: (file) => new RegExp(`^formcall: methods module ${escape(file)} has a syntax error at ${escape(file)}:4: \\S`)
  },
  {
    what: 'a TypeScript module with a syntax error',
    name: 'broken.ts',
    source: 'const base: number = 1\nexport default {\n  add: (a: number) => a +\n}\n',
    message: (file) => new RegExp(`^formcall: methods module ${escape(file)} has a syntax error at ${escape(file)}:4: \\S`)
  },
  {
    what: 'a CommonJS module requiring a file with a syntax error',
    name: 'requires-broken.cjs',
    source: "module.exports = require('./broken-helper.cjs')\n",
    message: (file) => new RegExp(`^formcall: methods module ${escape(file)} imports a file with a syntax error at ${escape(join(file, '..', 'broken-helper.cjs'))}:3: \\S`)
  }
]

function escape (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

describe('the formcall command line refuses what it cannot run', () => {
  let dir = ''
  let goodModule = ''

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'formcall-cli-errors-'))
    goodModule = join(dir, 'good.mjs')
    await writeFile(goodModule, 'export default { echo: (s) => s }\n')
    for (const { name, source } of BAD_MODULES) await writeFile(join(dir, name), source)
    await writeFile(join(dir, 'broken-helper.cjs'), 'module.exports = {\n  echo: (s => s\n}\n')
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** Runs `formcall ...argv` to its end (stopped after 20 s, if it starts serving instead) and returns its exit code and output. */
  const run = async (argv: string[]): Promise<{ code: number | string, output: string }> => {
    const child = startChild(process.execPath, [...CLI_FROM_SOURCE, ...argv])
    const timer = setTimeout(() => { void child.stop() }, 20_000)
    try {
      const code = await child.exited
      return { code, output: child.output() }
    } finally {
      clearTimeout(timer)
    }
  }

  /** The output is exactly one line. */
  const oneLine = (output: string): string => {
    const lines = output.trimEnd().split('\n')
    assert.equal(lines.length, 1, `expected one line, got:\n${output}`)
    return lines[0] as string
  }

  it('prints the version from the server package.json with --version and exits 0', async () => {
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'server', 'package.json'), 'utf8')) as { version: string }
    const { code, output } = await run(['--version'])
    assert.equal(code, 0, output)
    assert.equal(output, `${manifest.version}\n`)
  })

  it('prints the usage, which lists --version, with --help and exits 0', async () => {
    const { code, output } = await run(['serve', '--help'])
    assert.equal(code, 0, output)
    assert.match(output, /^Usage: formcall serve <methods-module> \[options\]\n {7}formcall describe <methods-module>/)
    assert.match(output, /--version/)
    assert.match(output, /--no-discover/)
    assert.match(output, /--static D/)
    assert.match(output, /--form-redirect P/)
  })

  for (const { argv, message } of USAGE_ERRORS) {
    const shown = argv.map((arg) => arg === '' ? "''" : arg).join(' ')
    it(`\`formcall ${shown}\` exits 2 with one line saying what is wrong`, async () => {
      const { code, output } = await run(argv.map((arg) => arg === MODULE ? goodModule : arg))
      assert.equal(code, 2, output)
      assert.match(oneLine(output), message)
    })
  }

  for (const isolation of ['worker', 'inline'] as const) {
    for (const { what, name, message } of BAD_MODULES) {
      it(`refuses ${what} at start with --isolation ${isolation}: exit 1 and one line naming the file`, async () => {
        const file = join(dir, name)
        const { code, output } = await run(['serve', file, '--port', '0', '--workers', '1', '--isolation', isolation])
        assert.equal(code, 1, output)
        assert.match(oneLine(output), message(file))
      })
    }
  }

  for (const { what, name, message } of BAD_MODULES) {
    it(`\`formcall describe\` refuses ${what}: exit 1 and one line naming the file`, async () => {
      const file = join(dir, name)
      const { code, output } = await run(['describe', file])
      assert.equal(code, 1, output)
      assert.match(oneLine(output), message(file))
    })
  }

  for (const [what, root] of [['does not exist', 'no-such-pages'], ['is not a directory', 'good.mjs']] as const) {
    it(`refuses a --static folder that ${what} at start: exit 1 and one line naming it`, async () => {
      const folder = join(dir, root)
      const { code, output } = await run(['serve', goodModule, '--port', '0', '--isolation', 'inline', '--static', folder])
      assert.equal(code, 1, output)
      assert.match(oneLine(output), new RegExp(`^formcall: the static root "${escape(folder)}" ${what} .*; give the folder of pages to serve$`))
    })
  }

  it('exits 1 with one line when the port is already in use', async () => {
    const blocker = createNetServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = blocker.address() as AddressInfo
      const { code, output } = await run(['serve', goodModule, '--port', String(port), '--isolation', 'inline'])
      assert.equal(code, 1, output)
      assert.match(oneLine(output), new RegExp(`^formcall: port ${port} on 127\\.0\\.0\\.1 is already in use; .*--port`))
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  for (const isolation of ['worker', 'inline'] as const) {
    for (const name of ['number.mjs', 'broken.mjs']) {
      it(`createServer({ methodsModule, isolation: '${isolation}' }) fails ready() with an error naming ${name}`, async () => {
        const file = join(dir, name)
        const app = createServer({ methodsModule: file, isolation, workers: 1 })
        const expected = (BAD_MODULES.find((row) => row.name === name)?.message(file)) as RegExp
        await assert.rejects(async () => { await app.ready() }, (err: Error) => {
          assert.match(`formcall: ${err.message}`, expected)
          return true
        })
        await app.close().catch(() => {})
      })
    }
  }
})

/** The methods module of the discovery tests: every form of params, zod and valibot, files, plain functions. */
const DISCOVERY_MODULE = join(REPO_ROOT, 'test', 'support', 'discovery-methods.ts')

describe('the OpenRPC document from the command line', () => {
  const children: Child[] = []
  after(async () => {
    for (const child of children) await child.stop()
  })

  /** Runs `formcall describe ...args` and parses what it printed on stdout. */
  const describeModule = async (args: string[]): Promise<any> => {
    const { stdout } = await promisify(execFile)(process.execPath, [...CLI_FROM_SOURCE, 'describe', ...args], { cwd: REPO_ROOT })
    assert.match(stdout, /^\{\n {2}"openrpc": "1\.3\.2",/, 'pretty-printed JSON')
    return JSON.parse(stdout)
  }

  /** Serves the discovery module and resolves with the endpoint URL. */
  const serve = async (args: string[]): Promise<string> => {
    const child = startChild(process.execPath, [...CLI_FROM_SOURCE, 'serve', DISCOVERY_MODULE, '--port', '0', ...args])
    children.push(child)
    const [, url] = await child.line(LISTENING)
    return url as string
  }

  it('`formcall describe` prints the document `formcall serve` answers rpc.discover with, in both isolation modes', async () => {
    const printed = await describeModule([DISCOVERY_MODULE])
    // The title and version come from the package.json nearest the module (test/package.json has no version).
    assert.deepEqual(printed.info, { title: '@formcall/test', version: '0.0.0' })
    assert.ok(printed.methods.some((method: { name: string }) => method.name === 'files.store'))
    for (const isolation of ['worker', 'inline']) {
      const url = await serve(['--workers', '1', '--isolation', isolation])
      const answer = await postJson(url, { jsonrpc: '2.0', method: 'rpc.discover', id: 1 })
      assert.equal(answer.status, 200, answer.text)
      assert.deepEqual(answer.json().result, printed, isolation)
    }
  })

  it('takes the document\'s info from --title, --api-version and --description, in describe and serve alike', async () => {
    const flags = ['--title', 'files', '--api-version', '2.1.0', '--description', 'Stores files.']
    const printed = await describeModule([DISCOVERY_MODULE, ...flags])
    assert.deepEqual(printed.info, { title: 'files', version: '2.1.0', description: 'Stores files.' })
    const url = await serve(['--isolation', 'inline', ...flags])
    assert.deepEqual((await postJson(url, { method: 'rpc.discover' })).json().result.info, printed.info)
  })

  it('`formcall serve --no-discover` answers rpc.discover as no such method', async () => {
    const url = await serve(['--isolation', 'inline', '--no-discover'])
    const answer = await postJson(url, { method: 'rpc.discover', id: 1 })
    assert.equal(answer.status, 404, answer.text)
    assert.equal(answer.json().error.code, -32601)
    assert.equal((await postJson(url, { method: 'math.add', params: [1, 2] })).json().result, 3)
  })
})
