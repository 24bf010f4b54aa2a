import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, posix, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import ts from 'typescript'
import { DOWNLOAD_HEADER } from '@formcall/spec'
import { launchBrowser, type TestBrowser } from './support/browser.js'
import { randomContent, sha256 } from './support/bytes.js'
import { REPO_ROOT, startChild, type Child } from './support/child-process.js'
import { multipartBody, multipartType } from './support/multipart.js'
import { postJson, rawRequest } from './support/raw-http.js'
import { runCommand, type CommandResult } from './support/run-command.js'

/**
 * The packages as a user gets them: packed with pnpm (which applies `publishConfig`), installed with npm from the
 * tarballs into one fresh directory outside the workspace, and used from there with plain `node`: no tsx, no
 * workspace `node_modules` on the resolution path or on PATH.
 */

const PNPM = ['--yes', 'pnpm@10.34.9'] as const
const LARGE_FILE_SIZE = 64 * 2 ** 20

interface PackageSpec {
  /** Folder in the workspace, also the tarball's name after `formcall-`. */
  readonly dir: string
  readonly name: string
  /** Files this package must hold on top of the ones every package holds. */
  readonly holds: readonly string[]
}

const PACKAGES: readonly PackageSpec[] = [
  { dir: 'spec', name: '@formcall/spec', holds: ['vectors/index.json', 'PROTOCOL.md'] },
  {
    dir: 'server',
    name: '@formcall/server',
    // The worker files are loaded by URL (new URL('./worker-boot.mjs', import.meta.url)), not imported: the import
    // scan below cannot see them, so they are listed by name.
    holds: ['bin/formcall.js', 'dist/cli.js', 'dist/dispatch/worker/worker-boot.mjs', 'dist/dispatch/worker/worker-entry.js']
  },
  { dir: 'client-node', name: '@formcall/client-node', holds: [] },
  { dir: 'client-browser', name: '@formcall/client-browser', holds: [] }
]
const EVERY_PACKAGE_HOLDS = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts']
const EXAMPLES = ['cli-server', 'fastify-plugin', 'upload-large-file', 'browser-vite'] as const

interface Manifest {
  name: string
  version: string
  main?: string
  types?: string
  bin?: Record<string, string>
  exports?: Record<string, string | Record<string, string>>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  optionalDependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

interface Tarball {
  readonly spec: PackageSpec
  readonly path: string
  readonly bytes: number
  /** Paths inside the package (the tarball's `package/` prefix removed). */
  readonly files: ReadonlySet<string>
  readonly manifest: Manifest
}

/** Within `ms`, or a rejection that says what was being waited for. */
async function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} took longer than ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The environment of everything run in the consumer: nothing of the workspace or of the test's own loader. `pnpm test`
 * puts the workspace's node_modules/.bin (tsx, tsc, vite) on PATH and sets npm_* variables; NODE_OPTIONS could carry
 * `--import tsx`.
 */
function consumerEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_)/i.test(key) || ['NODE_OPTIONS', 'NODE_PATH', 'INIT_CWD', 'TSX_TSCONFIG_PATH'].includes(key)) continue
    env[key] = value
  }
  env.PATH = (process.env.PATH ?? '').split(':').filter((dir) => dir !== '' && !dir.startsWith(REPO_ROOT)).join(':')
  env.NO_COLOR = '1'
  return { ...env, ...extra }
}

/** The package name a bare import specifier refers to (`@scope/name/sub` → `@scope/name`). */
function packageOf (specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

const BUILTINS = new Set(builtinModules)

describe('the packed packages, installed from their tarballs', () => {
  let work = ''
  let consumer = ''
  const tarballs = new Map<string, Tarball>()
  const children: Child[] = []
  let browser: TestBrowser | undefined
  /** The type-check runs in the background from `before` on (it is the slowest step); its test awaits it. */
  let typeCheck: Promise<CommandResult> | undefined
  /** The cli-server example's endpoint, shared by the examples that call a server. */
  let cliServerUrl: string | undefined
  /** How long the set-up steps took, reported by the first test. */
  const setUpMs: Record<string, number> = {}
  /** Stops a command still running when the tests end (the background type-check after a failed set-up). */
  const cleanUp = new AbortController()

  const inConsumer = (...parts: string[]): string => join(consumer, ...parts)
  const node = process.execPath
  const tsc = (): string => inConsumer('node_modules', 'typescript', 'bin', 'tsc')
  const vite = (): string => inConsumer('node_modules', 'vite', 'bin', 'vite.js')

  const start = (command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Child => {
    const child = startChild(command, args, { cwd, env: consumerEnv(env), detached: true })
    children.push(child)
    return child
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'formcall-packaging-'))
    assert.ok(relative(REPO_ROOT, work).startsWith('..'), `the temp dir ${work} must be outside the workspace`)
    const packs = join(work, 'packs')
    consumer = join(work, 'consumer')
    await mkdir(packs)
    await mkdir(consumer)

    // One pnpm run packs all four (each `prepack` builds its dist first), in dependency order.
    const filters = PACKAGES.flatMap(({ dir }) => ['--filter', `./${dir}`])
    const pack = await runCommand('npx', [...PNPM, '-r', ...filters, 'pack', '--pack-destination', packs],
      { cwd: REPO_ROOT, timeoutMs: 120_000 })
    setUpMs['pnpm pack, builds included'] = pack.ms
    const packed = await readdir(packs)
    for (const spec of PACKAGES) {
      const file = packed.find((name) => new RegExp(`^formcall-${spec.dir}-\\d.*\\.tgz$`).test(name))
      assert.ok(file !== undefined, `pnpm pack made no tarball for ${spec.name}; made: ${packed.join(', ')}`)
      const path = join(packs, file)
      const listing = await runCommand('tar', ['-tzf', path], { cwd: packs, timeoutMs: 10_000 })
      const files = new Set(listing.stdout.split('\n').filter((line) => line !== '' && !line.endsWith('/'))
        .map((line) => line.replace(/^package\//, '')))
      const manifest = JSON.parse((await runCommand('tar', ['-xzOf', path, 'package/package.json'],
        { cwd: packs, timeoutMs: 10_000 })).stdout) as Manifest
      tarballs.set(spec.dir, { spec, path, bytes: (await stat(path)).size, files, manifest })
    }

    await writeFile(inConsumer('package.json'), JSON.stringify({ name: 'formcall-consumer', private: true, type: 'module' }))
    // One install for everything: the four tarballs, the peer (fastify), the validator the cli-server example declares
    // its params with (zod) and the tools the examples use. TypeScript is pinned to the line the packages are built
    // with (5.9; `typescript@latest` is the 7.x native compiler).
    const install = await runCommand('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error',
      ...[...tarballs.values()].map(({ path }) => path), 'fastify', 'zod@^4.3.0', 'vite', 'typescript@~5.9.3', '@types/node@20'],
    { cwd: consumer, env: consumerEnv(), timeoutMs: 150_000 })
    setUpMs['npm install'] = install.ms

    // The examples sit side by side, as in the repository (browser-vite imports cli-server's types); their imports
    // resolve from the consumer's node_modules, one level up.
    for (const example of EXAMPLES) {
      await cp(join(REPO_ROOT, 'examples', example), inConsumer(example), {
        recursive: true,
        filter: (source) => !/[/\\](node_modules|dist)$/.test(source)
      })
    }

    await mkdir(inConsumer('types'))
    for (const file of ['server.ts', 'client.ts', 'browser.ts', 'browser-only.ts']) {
      await cp(join(REPO_ROOT, 'test', 'packaging-consumer', file), inConsumer('types', file))
    }
    typeCheck = runCommand(node, [tsc(), '-b', await writeTypeCheckProjects(inConsumer('types')), '--verbose'],
      { cwd: inConsumer('types'), env: consumerEnv(), timeoutMs: 150_000, signal: cleanUp.signal })
    typeCheck.catch(() => {}) // awaited by its test; not an unhandled rejection if another test fails first
  }, { timeout: 300_000 })

  after(async () => {
    await browser?.close().catch(() => {})
    await Promise.all(children.map(async (child) => {
      await within(child.stop(), 10_000, 'a child stopping').catch(() => { child.process.kill('SIGKILL') })
    }))
    cleanUp.abort(new Error('the packaging tests ended'))
    await typeCheck?.catch(() => {})
    if (work !== '') await rm(work, { recursive: true, force: true })
  })

  it('each tarball holds its compiled entry, declarations, README, LICENSE and CHANGELOG', (t) => {
    for (const [step, ms] of Object.entries(setUpMs)) t.diagnostic(`${step}: ${(ms / 1000).toFixed(1)} s`)
    const missing: string[] = []
    for (const { spec, files, bytes } of tarballs.values()) {
      t.diagnostic(`${spec.name}: ${(bytes / 1024).toFixed(1)} KiB, ${files.size} files`)
      for (const file of [...EVERY_PACKAGE_HOLDS, ...spec.holds]) {
        if (!files.has(file)) missing.push(`${spec.name}: ${file}`)
      }
    }
    assert.deepEqual(missing, [], `files missing from the tarballs:\n  ${missing.join('\n  ')}`)
  })

  it('each packed package.json points main, types, exports and bin at files in the tarball, with no workspace: ranges', () => {
    const problems: string[] = []
    for (const { spec, files, manifest } of tarballs.values()) {
      const has = (target: string): boolean => files.has(posix.normalize(target))
      const dot = manifest.exports?.['.']
      if (typeof dot !== 'object') problems.push(`${spec.name}: exports["."] is not a conditions object`)
      else {
        if (dot.types !== './dist/index.d.ts') problems.push(`${spec.name}: exports["."].types is ${dot.types}`)
        if (dot.import !== './dist/index.js' && dot.default !== './dist/index.js') {
          problems.push(`${spec.name}: exports["."] does not load ./dist/index.js`)
        }
      }
      const targets = Object.values(manifest.exports ?? {}).flatMap((value) => typeof value === 'string' ? [value] : Object.values(value))
      for (const target of [...targets, manifest.main, manifest.types, ...Object.values(manifest.bin ?? {})]) {
        if (target === undefined) continue
        if (!has(target)) problems.push(`${spec.name}: ${target} is named in package.json but not in the tarball`)
        if (/(^|\/)src\//.test(target)) problems.push(`${spec.name}: ${target} points at the TypeScript sources`)
      }
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const) {
        for (const [name, range] of Object.entries(manifest[field] ?? {})) {
          if (/^(workspace|link|file):/.test(range)) problems.push(`${spec.name}: ${field}.${name} is "${range}"`)
        }
      }
    }
    const server = tarballs.get('server')!.manifest
    assert.equal(server.bin?.formcall, './bin/formcall.js')
    assert.ok(server.peerDependencies?.fastify !== undefined, 'fastify is a peer dependency of @formcall/server')
    assert.equal(server.peerDependenciesMeta?.tsx?.optional, true, 'tsx is an optional peer of @formcall/server')
    assert.deepEqual(problems, [])
  })

  it('every module the compiled code and its declarations import is in the tarball or a declared dependency', async () => {
    const problems: string[] = []
    for (const { spec, files, manifest } of tarballs.values()) {
      const declared = new Set([
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
        ...Object.keys(manifest.optionalDependencies ?? {})
      ])
      const installed = inConsumer('node_modules', ...spec.name.split('/'))
      for (const file of files) {
        const isDeclaration = file.endsWith('.d.ts')
        if (!(file.startsWith('dist/') || file.startsWith('bin/')) || !/\.(m?js|d\.ts)$/.test(file)) continue
        const text = await readFile(join(installed, file), 'utf8')
        // TypeScript's own scanner: finds static, dynamic and type imports and skips those in comments (TSDoc examples).
        const { importedFiles } = ts.preProcessFile(text, true, true)
        for (const { fileName: specifier } of importedFiles) {
          if (specifier.startsWith('.')) {
            const target = posix.join(posix.dirname(file), specifier)
            const candidates = isDeclaration ? [target.replace(/\.(m?)js$/, '.d.$1ts'), target] : [target]
            if (!candidates.some((candidate) => files.has(candidate))) problems.push(`${spec.name}: ${file} imports ${specifier}, not in the tarball`)
          } else if (!specifier.startsWith('node:') && !BUILTINS.has(specifier) && !declared.has(packageOf(specifier))) {
            problems.push(`${spec.name}: ${file} imports ${specifier}, which package.json does not declare`)
          }
        }
      }
    }
    assert.deepEqual(problems, [])
  })

  it('every source map in a tarball points at sources the tarball holds', async () => {
    const problems: string[] = []
    for (const { spec, files } of tarballs.values()) {
      const installed = inConsumer('node_modules', ...spec.name.split('/'))
      for (const file of [...files].filter((name) => name.endsWith('.map'))) {
        const map = JSON.parse(await readFile(join(installed, file), 'utf8')) as { sources: string[], sourceRoot?: string }
        for (const source of map.sources) {
          const target = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source))
          if (!files.has(target)) problems.push(`${spec.name}: ${file} refers to ${source}`)
        }
      }
    }
    assert.deepEqual(problems, [])
  })

  it('the consumer has no tsx: neither installed nor resolvable from it', () => {
    assert.equal(existsSync(inConsumer('node_modules', 'tsx')), false, 'tsx is in the consumer\'s node_modules')
    const require = createRequire(inConsumer('package.json'))
    assert.throws(() => require.resolve('tsx'), { code: 'MODULE_NOT_FOUND' })
  })

  it('without tsx, a TypeScript methods module is refused at start with a message naming tsx and the fix, in both modes', { timeout: 60_000 }, async () => {
    const dir = inConsumer('typescript-without-tsx')
    await mkdir(dir)
    // An enum: TypeScript that no version of Node's own type stripping runs, so the outcome is the same on 20 and 24.
    await writeFile(join(dir, 'methods.ts'), 'enum Greeting { Hello = "hello" }\nexport default { greet: (name: string): string => `${Greeting.Hello} ${name}` }\n')
    for (const isolation of ['worker', 'inline']) {
      const result = await runCommand(inConsumer('node_modules', '.bin', 'formcall'),
        ['serve', 'methods.ts', '--port', '0', '--isolation', isolation], { cwd: dir, env: consumerEnv(), timeoutMs: 30_000, allowFailure: true })
      assert.equal(result.code, 1, `${isolation}: ${result.stdout}${result.stderr}`)
      assert.match(result.stderr, /methods\.ts/, isolation)
      assert.match(result.stderr, /needs tsx to load here: install it \(npm install tsx\) or compile the module to JavaScript/, isolation)
      assert.equal(result.stderr.trim().split('\n').length, 1, `${isolation}: one line: ${result.stderr}`)
    }
  })

  it('the cli-server example compiles with tsc and the formcall bin serves it in worker threads with plain node', { timeout: 90_000 }, async () => {
    const example = inConsumer('cli-server')
    await runCommand(node, [tsc(), '-p', '.'], { cwd: example, env: consumerEnv(), timeoutMs: 60_000 })
    assert.ok(existsSync(join(example, 'dist', 'methods.js')) && existsSync(join(example, 'dist', 'methods.d.ts')))

    // The bin link npm made, started as a user's shell would (its shebang picks node from PATH).
    // With resumable uploads too, stored in the work directory: the upload-large-file example sends one that way.
    const server = start(inConsumer('node_modules', '.bin', 'formcall'), ['serve', 'dist/methods.js', '--port', '0', '--uploads', join(work, 'uploads')], example)
    const [, url, how] = await within(server.line(/formcall listening on (http:\/\/127\.0\.0\.1:\d+\/rpc) \((.*)\)/), 30_000,
      'the cli-server starting')
    cliServerUrl = url!
    assert.equal(how, 'worker; methods: echo, math.add, files.digest, files.avatar, files.report, shop.reserve, shop.order; resumable uploads at /rpc/uploads/')

    const echo = await postJson(url!, { jsonrpc: '2.0', id: 1, method: 'echo', params: ['from the tarball'] })
    assert.equal(echo.status, 200, echo.text)
    assert.deepEqual(echo.json(), { jsonrpc: '2.0', id: 1, result: 'from the tarball' })
    assert.equal((await postJson(url!, { method: 'math.add', params: [2, 3] })).json().result, 5)

    const content = randomContent(3 * 2 ** 20 + 17)
    const upload = await rawRequest(url!, {
      headers: { 'Content-Type': multipartType('packaging') },
      body: multipartBody('packaging', [
        { name: 'json', content: JSON.stringify({ method: 'files.digest', params: [{ $file: 'f' }] }) },
        { name: 'f', filename: 'random.bin', content }
      ])
    })
    assert.equal(upload.status, 200, upload.text)
    assert.deepEqual(upload.json().result, { name: 'random.bin', size: content.length, sha256: sha256(content) })

    const report = await postJson(url!, { method: 'files.report', params: ['2026-11'] })
    assert.equal(report.status, 200, report.text)
    assert.ok(report.headers[DOWNLOAD_HEADER.toLowerCase()] !== undefined, `a download carries ${DOWNLOAD_HEADER}`)
    assert.match(report.headers['content-disposition'] ?? '', /report-2026-11\.csv/)
    assert.equal(report.text, 'month,total\n2026-11,1234\n')

    const ownCode = await postJson(url!, { id: 2, method: 'shop.reserve', params: ['pear', 1] })
    assert.equal(ownCode.status, 400)
    assert.deepEqual(ownCode.json().error, { code: 4001, message: 'only 0 of "pear" in stock; reserve fewer', data: { item: 'pear', inStock: 0 } })
    const registered = await postJson(url!, { id: 3, method: 'shop.reserve', params: ['kiwi', 1] })
    assert.equal(registered.status, 400)
    assert.equal(registered.json().error.code, -32602)

    // Declared params and file params, from the installed packages in worker threads.
    const ordered = await postJson(url!, { jsonrpc: '2.0', id: 4, method: 'shop.order', params: { item: 'apple', count: 2 } })
    assert.deepEqual(ordered.json().result, { item: 'apple', count: 2, total: 4 })
    const refused = await postJson(url!, { jsonrpc: '2.0', id: 5, method: 'shop.order', params: [{ item: 'kiwi', count: 0 }] })
    assert.equal(refused.json().error.code, -32602, refused.text)
    assert.deepEqual(refused.json().error.data.issues.map((issue: { path: unknown[] }) => issue.path), [['item'], ['count']])
    const avatar = async (type: string, content: Buffer): Promise<any> => (await rawRequest(url!, {
      headers: { 'Content-Type': multipartType('avatar') },
      body: multipartBody('avatar', [
        { name: 'json', content: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'files.avatar', params: [{ $file: 'a' }] }) },
        { name: 'a', filename: 'a', type, content }
      ])
    })).json()
    const jpeg = Buffer.concat([Buffer.from('ffd8ffe000104a46494600', 'hex'), Buffer.alloc(100)])
    assert.deepEqual((await avatar('image/jpeg', jpeg)).result, { type: 'image/jpeg', bytes: jpeg.length })
    assert.equal((await avatar('image/png', Buffer.from('not an image at all'.repeat(10)))).error.code, -32020)
    assert.equal((await avatar('image/jpeg', Buffer.concat([jpeg, Buffer.alloc(2 ** 20)]))).error.data.limit, 'maxSize')
  })

  it('the fastify-plugin example keeps its own routes and answers formcall calls on its path', { timeout: 60_000 }, async () => {
    const app = start(node, ['server.mjs'], inConsumer('fastify-plugin'), { PORT: '0' })
    const [, origin] = await within(app.line(/app listening on (http:\/\/127\.0\.0\.1:\d+)/), 30_000, 'the fastify-plugin app starting')
    const health = await rawRequest(`${origin!}/health`, { method: 'GET' })
    assert.equal(health.status, 200, health.text)
    assert.deepEqual(health.json(), { ok: true, notes: 0 })

    const added = await postJson(`${origin!}/api/rpc`, { id: 1, method: 'notes.add', params: ['buy milk'] })
    assert.deepEqual(added.json(), { jsonrpc: '2.0', id: 1, result: { count: 1 } })
    const imported = await rawRequest(`${origin!}/api/rpc`, {
      headers: { 'Content-Type': multipartType('notes') },
      body: multipartBody('notes', [
        { name: 'json', content: JSON.stringify({ method: 'notes.importFile', params: [{ $file: 'f' }] }) },
        { name: 'f', filename: 'note.txt', content: Buffer.from('call the plumber\n') }
      ])
    })
    assert.equal(imported.status, 200, imported.text)
    assert.deepEqual(imported.json().result, { count: 2, from: 'note.txt' })
    assert.deepEqual((await postJson(`${origin!}/api/rpc`, { method: 'notes.list' })).json().result, ['buy milk', 'call the plumber'])
    assert.deepEqual((await rawRequest(`${origin!}/health`, { method: 'GET' })).json(), { ok: true, notes: 2 })
    // The app's own error handling still applies to its other routes.
    assert.equal((await rawRequest(`${origin!}/nowhere`, { method: 'GET' })).status, 404)
  })

  it('the upload-large-file example streams 64 MiB from disk and prints 100% progress and the server\'s sha256', { timeout: 90_000 }, async () => {
    assert.ok(cliServerUrl !== undefined, 'needs the cli-server example running (its test failed)')
    const path = join(work, 'large.bin')
    const hash = createHash('sha256')
    const chunks: Buffer[] = []
    for (let written = 0; written < LARGE_FILE_SIZE; written += 2 ** 20) {
      const chunk = randomBytes(2 ** 20)
      hash.update(chunk)
      chunks.push(chunk)
    }
    await writeFile(path, Buffer.concat(chunks))
    chunks.length = 0
    const expected = hash.digest('hex')

    const { stdout } = await runCommand(node, ['upload.mjs', cliServerUrl, path], {
      cwd: inConsumer('upload-large-file'), env: consumerEnv(), timeoutMs: 60_000
    })
    assert.equal(/^sha256 ([0-9a-f]{64})$/m.exec(stdout)?.[1], expected, stdout)
    assert.match(stdout, new RegExp(`"size":${LARGE_FILE_SIZE}`))
    const last = /^progress 100% \((\d+) of (\d+) bytes\)$/m.exec(stdout)
    assert.ok(last !== null, `no 100% progress line in:\n${stdout}`)
    assert.equal(last[1], last[2])
    assert.ok(Number(last[2]) > LARGE_FILE_SIZE, 'the total counts the multipart body, a little more than the file')
    assert.ok((stdout.match(/^progress /gm) ?? []).length >= 10, 'progress is reported along the way')
    await rm(path)
  })

  it('the upload-large-file example with --resumable sends 64 MiB through the tus endpoint, then the call binds it: plain node, installed packages', { timeout: 90_000 }, async () => {
    assert.ok(cliServerUrl !== undefined, 'needs the cli-server example running (its test failed)')
    const path = join(work, 'resumable.bin')
    const content = randomBytes(LARGE_FILE_SIZE)
    await writeFile(path, content)
    const expected = createHash('sha256').update(content).digest('hex')

    const { stdout } = await runCommand(node, ['upload.mjs', '--resumable', cliServerUrl, path], {
      cwd: inConsumer('upload-large-file'), env: consumerEnv(), timeoutMs: 60_000
    })
    assert.equal(/^sha256 ([0-9a-f]{64})$/m.exec(stdout)?.[1], expected, stdout)
    assert.match(stdout, /, resumably$/m)
    const last = /^progress 100% \((\d+) of (\d+) bytes\)$/m.exec(stdout)
    assert.ok(last !== null, `no 100% progress line in:\n${stdout}`)
    assert.equal(last[1], last[2])
    // The bytes went to the upload store, not through a multipart body: it holds the upload now.
    assert.ok((await readdir(join(work, 'uploads'))).some((name) => name.endsWith('.json')), 'the upload is in the --uploads directory')
    await rm(path)
  })

  it('the browser-vite example type-checks and builds with vite, with no server code in the bundle', { timeout: 90_000 }, async () => {
    const example = inConsumer('browser-vite')
    await runCommand(node, [tsc(), '--noEmit', '-p', '.'], { cwd: example, env: consumerEnv(), timeoutMs: 60_000 })
    await runCommand(node, [vite(), 'build'], { cwd: example, env: consumerEnv(), timeoutMs: 60_000 })
    const html = await readFile(join(example, 'dist', 'index.html'), 'utf8')
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    assert.ok(script !== undefined, `no script in the built page:\n${html}`)
    const bundle = await readFile(join(example, 'dist', script), 'utf8')
    assert.match(bundle, /onprogress|upload/, 'the client is bundled')
    assert.doesNotMatch(bundle, /node:crypto|fastify|piscina/, 'server code reached the browser bundle')
  })

  describe('the browser-vite dev proxy in front of the cli-server', () => {
    let viteOrigin: string | undefined

    before(async () => {
      assert.ok(cliServerUrl !== undefined, 'needs the cli-server example running (its test failed)')
      const dev = start(node, [vite(), '--host', '127.0.0.1', '--port', '0', '--strictPort'], inConsumer('browser-vite'),
        { FORMCALL_TARGET: new URL(cliServerUrl).origin })
      viteOrigin = (await within(dev.line(/Local:\s+(http:\/\/127\.0\.0\.1:\d+)\//), 30_000, 'the vite dev server starting'))[1]
    }, { timeout: 60_000 })

    it('passes a same-origin call (Origin and Sec-Fetch-Site as a browser sends them) to the server and its answer back', { timeout: 30_000 }, async () => {
      const headers = { Origin: viteOrigin!, 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'cors' }
      const echo = await postJson(`${viteOrigin!}/rpc`, { jsonrpc: '2.0', id: 7, method: 'echo', params: ['through vite'] }, headers)
      assert.equal(echo.status, 200, echo.text)
      assert.deepEqual(echo.json(), { jsonrpc: '2.0', id: 7, result: 'through vite' })

      const content = randomContent(2 ** 20)
      const upload = await rawRequest(`${viteOrigin!}/rpc`, {
        headers: { ...headers, 'Content-Type': multipartType('vite') },
        body: multipartBody('vite', [
          { name: 'json', content: JSON.stringify({ method: 'files.digest', params: [{ $file: 'f0' }] }) },
          { name: 'f0', filename: 'page.bin', content }
        ])
      })
      assert.equal(upload.status, 200, upload.text)
      assert.equal(upload.json().result.sha256, sha256(content))
    })

    it('serves the page, and Chromium uploads a picked file through the proxy and shows the server\'s sha256', { timeout: 60_000 }, async () => {
      browser = await launchBrowser()
      const page = await browser.openPage(`${viteOrigin!}/`)
      const content = randomContent(256 * 1024)
      await page.setInputFiles('input[type=file]', { name: 'picked.bin', mimeType: 'application/octet-stream', buffer: content })
      await page.click('form button:not([type])')
      // The page writes "uploading …" at the start and the outcome (result, RpcError or failure) at the end.
      await page.waitForFunction(() => !/^(uploading|$)/.test(document.querySelector('#out')?.textContent ?? ''), undefined,
        { timeout: 20_000 })
      assert.equal(await page.textContent('#out'), `picked.bin: ${content.length} bytes, sha256 ${sha256(content)}`)
      assert.equal(await page.evaluate(() => document.querySelector<HTMLProgressElement>('#bar')!.value), 1)
    })
  })

  it('the README\'s quick start runs as written: its methods.mjs, npx formcall serve, its client.mjs and its curl lines', { timeout: 90_000 }, async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8')
    const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('**TypeScript.**'))
    const dir = inConsumer('readme')
    await mkdir(dir)
    // Code blocks whose first line names their file (`// methods.mjs`) are written as that file.
    const named = new Map<string, string>()
    for (const [, code] of quickStart.matchAll(/```js\n([\s\S]*?)```/g)) {
      const file = /^\/\/ (\S+)\n/.exec(code as string)?.[1]
      if (file !== undefined) named.set(file, code as string)
    }
    assert.deepEqual([...named.keys()], ['methods.mjs', 'client.mjs'])
    const shell = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap(([, block]) => (block as string).split('\n'))
      .filter((line) => line.trim() !== '')
    assert.ok(shell.includes('npm install @formcall/server @formcall/client-node'), 'the install line (run here from the tarballs)')
    const serve = shell.find((line) => line.startsWith('npx formcall serve '))
    assert.equal(serve, 'npx formcall serve ./methods.mjs --port 8080')
    const iso = randomContent(3 * 2 ** 20 + 17)
    await writeFile(join(dir, 'big.iso'), iso)
    await writeFile(join(dir, 'methods.mjs'), named.get('methods.mjs') as string)

    // As written, on a free port instead of 8080 (the machine may have something there).
    const server = start('npx', [...serve.replace('--port 8080', '--port 0').split(' ').slice(1)], dir)
    const [, url] = await within(server.line(/formcall listening on (http:\/\/127\.0\.0\.1:\d+\/rpc)/), 30_000, 'npx formcall serve')
    const local = (text: string): string => text.replaceAll('http://127.0.0.1:8080/rpc', url!)

    await writeFile(join(dir, 'client.mjs'), local(named.get('client.mjs') as string))
    assert.ok(shell.includes('node client.mjs'))
    const client = await runCommand(node, ['client.mjs'], { cwd: dir, env: consumerEnv(), timeoutMs: 30_000 })
    assert.match(client.stdout, /^3\n/)
    assert.match(client.stdout, new RegExp(`name: 'big.iso',\\s+sha256: '${sha256(iso)}'`))
    assert.equal(await readFile(join(dir, 'report.csv'), 'utf8'), 'a,b\n1,2\n')
    await rm(join(dir, 'report.csv'))

    const curls = shell.filter((line) => line.startsWith('curl '))
    assert.ok(curls.length >= 4)
    for (const command of curls) {
      const { stdout } = await runCommand('sh', ['-c', `${local(command)} -sS --fail-with-body`], { cwd: dir, env: consumerEnv(), timeoutMs: 30_000 })
      if (command.includes('-OJ')) {
        assert.equal(await readFile(join(dir, 'report.csv'), 'utf8'), 'a,b\n1,2\n', command)
        continue
      }
      const envelope = JSON.parse(stdout) as { result?: unknown, error?: unknown }
      assert.equal(envelope.error, undefined, `${command}\n${stdout}`)
      if (command.includes('files.digest')) assert.deepEqual(envelope.result, { name: 'big.iso', sha256: sha256(iso) })
    }
    const own = await postJson(url!, { method: 'files.remove', params: ['big.iso'] })
    assert.deepEqual(own.json().error, { code: 4003, message: '"big.iso" is read-only; ask its owner' })
  })

  it('a CommonJS file requires @formcall/server and @formcall/client-node with plain node and makes real calls', { timeout: 60_000 }, async () => {
    const script = inConsumer('require-packages.cjs')
    await cp(join(REPO_ROOT, 'test', 'packaging-consumer', 'require-packages.cjs'), script)
    const { stdout } = await runCommand(node, [script], { cwd: consumer, env: consumerEnv(), timeoutMs: 30_000 })
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), {
      echoed: 'required',
      digest: { uploaded: true, sha256: sha256('hello from require') },
      refused: { isRpcError: true, code: 4001, data: { from: 'cjs' } }
    })
  })

  it('a TypeScript consumer type-checks with 0 errors under node16, nodenext and bundler resolution, strict or not, without skipLibCheck', { timeout: 180_000 }, async () => {
    assert.ok(typeCheck !== undefined)
    const { stdout } = await typeCheck
    assert.doesNotMatch(stdout, /error TS/, stdout)
    // tsc -b --verbose names each project it builds: all twelve were checked, none skipped as up to date.
    assert.equal((stdout.match(/Building project/g) ?? []).length, TYPE_CHECK_PROJECTS.length, stdout)
  })
})

/** Module resolution modes × strictness; each checks the Node files and, separately, a DOM-only page. */
const TYPE_CHECK_PROJECTS = (['node16', 'nodenext', 'bundler'] as const).flatMap((resolution) =>
  [false, true].flatMap((strict) => [
    { resolution, strict, page: false },
    { resolution, strict, page: true }
  ]))

/**
 * Writes one tsconfig per entry of TYPE_CHECK_PROJECTS and a solution file referencing them; returns the solution's
 * path. One `tsc -b` checks them all in one process, sequentially (cheaper than twelve `tsc` starts).
 */
async function writeTypeCheckProjects (dir: string): Promise<string> {
  const references: Array<{ path: string }> = []
  for (const { resolution, strict, page } of TYPE_CHECK_PROJECTS) {
    const name = `tsconfig.${resolution}.${strict ? 'strict' : 'loose'}.${page ? 'page' : 'node'}.json`
    const compilerOptions: Record<string, unknown> = {
      target: 'ES2022',
      module: resolution === 'bundler' ? 'ESNext' : resolution,
      moduleResolution: resolution,
      strict,
      skipLibCheck: false,
      noEmit: true,
      // A page sees only the DOM; the Node files see both, as a full-stack app's server and client code do.
      lib: ['ES2023', 'DOM', 'DOM.Iterable'],
      types: page ? [] : ['node'],
      tsBuildInfoFile: `${name}.tsbuildinfo`,
      ...(strict ? { noPropertyAccessFromIndexSignature: true, exactOptionalPropertyTypes: true } : {})
    }
    await writeFile(join(dir, name), JSON.stringify({
      compilerOptions,
      files: page ? ['browser-only.ts'] : ['server.ts', 'client.ts', 'browser.ts']
    }, null, 2))
    references.push({ path: `./${name}` })
  }
  const solution = join(dir, 'tsconfig.solution.json')
  await writeFile(solution, JSON.stringify({ files: [], references }, null, 2))
  return solution
}

