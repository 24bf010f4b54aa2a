import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { randomContent, sha256 } from './support/bytes.js'
import { CLI_FROM_SOURCE, REPO_ROOT, startChild, type Child } from './support/child-process.js'
import { multipartBody, multipartType } from './support/multipart.js'
import { postJson, rawRequest } from './support/raw-http.js'

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
