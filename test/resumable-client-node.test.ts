/**
 * The Node client's resumable uploads against real formcall servers with uploads enabled: `fileFromPath(p,
 * { resumable: true })` and the `resumable.above` option send a file through the server's tus endpoint before the
 * call, across connections a proxy cuts, a server killed and started again, and an abort; the call binds the
 * finished upload with `$upload`, and the method reads every byte.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream, readdirSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { createClient, fileFromPath, TransportError, type UploadProgress } from '@formcall/client-node'
import { ErrorCode, RpcError, type CreateServerOptions } from '@formcall/server'
import { openDescriptors } from '../client-node/test/support/open-descriptors.js'
import { CLI_FROM_SOURCE, peakRssDuring, rssOf, startChild, type Child } from './support/child-process.js'
import { CuttingProxy } from './support/cutting-proxy.js'
import { SeededRandom } from './support/seeded-random.js'
import { startServer, startUploadServer, type RunningServer } from './support/start-server.js'
import { vectorMethods } from './support/vector-methods.js'

const MiB = 1024 * 1024
const random = new SeededRandom(Number(process.env.FORMCALL_SEED ?? Date.now() % 2 ** 31))
console.log(`# resumable client-node: seed ${random.seed} (FORMCALL_SEED=${random.seed} replays the cut offsets)`)

const METHODS_MODULE = fileURLToPath(new URL('./support/vector-methods.ts', import.meta.url))
const SECRET = 'a shared upload secret of at least 32 characters'

const MODES: ReadonlyArray<{ mode: 'inline' | 'worker', options: Omit<CreateServerOptions, 'tmpDir'>, cli: string[] }> = [
  { mode: 'inline', options: { methods: vectorMethods }, cli: ['--isolation', 'inline'] },
  {
    mode: 'worker',
    options: { methodsModule: METHODS_MODULE, isolation: 'worker', workers: 1 },
    cli: ['--isolation', 'worker', '--workers', '1']
  }
]


/** `formcall serve` in a process of its own, with uploads in `directory` under the shared secret. */
async function startUploadChild (directory: string, cli: string[]): Promise<{ child: Child, port: number }> {
  const child = startChild(process.execPath, [...CLI_FROM_SOURCE, 'serve', METHODS_MODULE, '--port', '0', '--host', '127.0.0.1', ...cli, '--uploads', directory],
    { env: { ...process.env, FORMCALL_UPLOAD_SECRET: SECRET } })
  const [, url] = await child.line(/formcall listening on (http:\/\/\S+)/)
  return { child, port: Number(new URL(url as string).port) }
}

/** A file of `size` random bytes (or repeated text, for methods that answer with the content) and its SHA-256. */
async function sourceFile (dir: string, name: string, size: number, text = false): Promise<{ path: string, sha256: string }> {
  const path = join(dir, name)
  const hash = createHash('sha256')
  const out = createWriteStream(path)
  const line = Buffer.from('formcall resumable line of text\n'.repeat(2048))
  for (let written = 0; written < size;) {
    const n = Math.min(4 * MiB, size - written)
    const chunk = text ? line.subarray(0, Math.min(n, line.length)) : randomBytes(n)
    hash.update(chunk)
    written += chunk.length
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => { if (err) reject(err); else resolve() }))
  return { path, sha256: hash.digest('hex') }
}


/** Three distinct random offsets inside `[low, high)`. */
function threeCuts (low: number, high: number): number[] {
  const cuts = new Set<number>()
  while (cuts.size < 3) cuts.add(random.int(low, high - 1))
  return [...cuts]
}

/**
 * Checks a call's progress events against UploadProgress's contract for a call with one resumable file of `size`
 * bytes: `loaded` never decreases, the file's events count its size as `total` and reach it, then `total` grows once
 * by the request body's size, and the last event has `loaded === total`.
 */
function assertProgress (events: readonly UploadProgress[], size: number): void {
  assert.ok(events.length > 0, 'progress was reported')
  for (let i = 1; i < events.length; i++) {
    const [previous, event] = [events[i - 1] as UploadProgress, events[i] as UploadProgress]
    assert.ok(event.loaded >= previous.loaded, `loaded went back from ${previous.loaded} to ${event.loaded} (event ${i})`)
  }
  const fileEvents = events.filter((event) => event.total === size)
  assert.ok(fileEvents.length > 0 && fileEvents.every((event) => event.loaded <= size))
  assert.equal(fileEvents.at(-1)?.loaded, size, 'the file\'s events reach its size')
  const last = events.at(-1) as UploadProgress
  assert.ok(last.total !== null && last.total > size, `the body is counted after the file (${String(last.total)})`)
  assert.equal(last.loaded, last.total, 'the last event has loaded === total')
  assert.ok(events.every((event) => event.total === size || event.total === last.total), 'total grows once')
}

/** The names of the upload's files (`<id>`, `<id>.json`) in a server's upload directory. */
function uploadIds (directory: string): string[] {
  return readdirSync(directory).filter((name) => !name.endsWith('.json'))
}

let dir = ''
before(async () => { dir = await mkdtemp(join(tmpdir(), 'formcall-test-resumable-client-')) })
after(async () => await rm(dir, { recursive: true, force: true }))

for (const { mode, options, cli } of MODES) {
  describe(`client-node resumable uploads (${mode})`, () => {
    let server: RunningServer & { directory: string }
    before(async () => { server = await startUploadServer(options, { secret: SECRET }) })
    after(async () => await server.close())

    test('a 256 MiB fileFromPath(p, { resumable: true }) crosses three cut connections; the method reads every byte, progress keeps its contract', async () => {
      const size = 256 * MiB
      const source = await sourceFile(dir, `cut-${mode}.bin`, size)
      const proxy = new CuttingProxy(server.port, threeCuts(MiB, size - MiB))
      try {
        const api = createClient<typeof vectorMethods>(`${await proxy.listen()}/rpc`)
        const events: UploadProgress[] = []
        const result = await api.$with({ onUploadProgress: (event) => { events.push(event) } })
          .files.digest(fileFromPath(source.path, { resumable: true }))
        assert.deepEqual(result, { size, sha256: source.sha256 })
        assert.equal(proxy.cut, 3, 'the proxy cut three connections')
        assertProgress(events, size)
        assert.deepEqual(openDescriptors(source.path), [], 'the file is closed once the call is over')
      } finally {
        await proxy.close()
        await rm(source.path, { force: true })
      }
    })

    test('resumable.above uploads the big file resumably and sends the small one as a part of the same call', async () => {
      const big = await sourceFile(dir, `big-${mode}.txt`, 3 * MiB, true)
      const small = await sourceFile(dir, `small-${mode}.txt`, 1000, true)
      try {
        const api = createClient<typeof vectorMethods>(server.url, { resumable: { above: MiB } })
        const result = await api.files.pair('mixed', fileFromPath(big.path, { type: 'text/plain' }), fileFromPath(small.path))
        assert.match(result.first.field, /^\$upload:[0-9a-f]+$/, 'the big file was bound as an upload')
        assert.equal(result.first.filename, `big-${mode}.txt`)
        assert.equal(result.first.type, 'text/plain')
        assert.equal(createHash('sha256').update(result.first.text).digest('hex'), big.sha256)
        assert.equal(result.second.field, 'f0', 'the small file went as the call\'s first (and only) part')
        assert.equal(result.second.text, await readFile(small.path, 'utf8'))
        // A file made with { resumable: false } stays a part whatever the size; without `above`, one marked true goes alone.
        const forced = await api.files.pair('parts', fileFromPath(big.path, { resumable: false }), fileFromPath(small.path, { resumable: true }))
        assert.equal(forced.first.field, 'f0')
        assert.match(forced.second.field, /^\$upload:/)
        assert.equal(forced.second.type, 'text/plain', 'the type is guessed from the filename, as for a part')
      } finally {
        await rm(big.path, { force: true })
        await rm(small.path, { force: true })
      }
    })

    test('an aborted call stops and terminates its upload: the server no longer knows it, and the call rejects with the reason', async () => {
      const size = 64 * MiB
      const source = await sourceFile(dir, `abort-${mode}.bin`, size)
      const controller = new AbortController()
      const reason = new Error('user pressed cancel')
      const before = new Set(uploadIds(server.directory))
      let id: string | undefined
      try {
        const call = createClient<typeof vectorMethods>(server.url).$with({
          signal: controller.signal,
          onUploadProgress: ({ loaded }) => {
            if (id !== undefined || loaded < size / 4) return
            id = uploadIds(server.directory).find((name) => !before.has(name))
            controller.abort(reason)
          }
        }).files.digest(fileFromPath(source.path, { resumable: true }))
        await assert.rejects(call, (err: unknown) => {
          assert.ok(err instanceof TransportError, String(err))
          assert.equal(err.kind, 'aborted')
          assert.equal(err.cause, reason)
          return true
        })
        assert.ok(id !== undefined, 'the upload existed on the server while it was being sent')
        const head = await fetch(`${server.url}/uploads/${id}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
        assert.ok(head.status === 404 || head.status === 410, `HEAD answers ${head.status}`)
        assert.ok(!(await readdir(server.directory)).some((name) => name.startsWith(id as string)), 'its bytes are deleted')
        assert.deepEqual(openDescriptors(source.path), [])
      } finally {
        await rm(source.path, { force: true })
      }
    })

    test('a server killed mid-upload and started again on the same directory and secret lets the upload resume and bind', async () => {
      const size = 128 * MiB
      const source = await sourceFile(dir, `restart-${mode}.bin`, size)
      const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
      let first: Child | undefined
      let second: Child | undefined
      let proxy: CuttingProxy | undefined
      try {
        const started = await startUploadChild(directory, cli)
        first = started.child
        proxy = new CuttingProxy(started.port)
        const api = createClient<typeof vectorMethods>(`${await proxy.listen()}/rpc`)
        let restart: Promise<void> | undefined
        let forwardedAtRestart = 0
        const result = await api.$with({
          onUploadProgress: ({ loaded }) => {
            if (restart !== undefined || loaded < size * 0.4) return
            const cut = proxy as CuttingProxy
            restart = (async () => {
              // Connections are cut and new ones wait at the proxy while the server is away: the client sees a dead link.
              cut.down()
              first?.process.kill('SIGKILL')
              await first?.exited
              const again = await startUploadChild(directory, cli)
              second = again.child
              forwardedAtRestart = cut.forwarded
              cut.up(again.port)
            })()
          }
        }).files.digest(fileFromPath(source.path, { resumable: true }))
        await restart
        assert.ok(restart !== undefined, 'the server was restarted during the upload')
        assert.deepEqual(result, { size, sha256: source.sha256 })
        const sentAfter = proxy.forwarded - forwardedAtRestart
        assert.ok(sentAfter < size, `the upload resumed rather than starting over (${sentAfter} bytes after the restart)`)
      } finally {
        await proxy?.close()
        await second?.stop()
        if (first !== undefined && first.process.exitCode === null && first.process.signalCode === null) await first.stop()
        await rm(directory, { recursive: true, force: true })
        await rm(source.path, { force: true })
      }
    })
  })
}

describe('client-node resumable uploads: resuming across client processes, authenticated uploads, servers without uploads', () => {
  let server: RunningServer & { directory: string }
  before(async () => { server = await startUploadServer({ methods: vectorMethods }, { secret: SECRET }) })
  after(async () => await server.close())

  test('with resumable.storePath, a later client resumes an upload an earlier one left unfinished, with its token', async () => {
    const size = 64 * MiB
    const source = await sourceFile(dir, 'stored.bin', size)
    const storePath = join(dir, 'uploads-store.json')
    const proxy = new CuttingProxy(server.port)
    try {
      const url = `${await proxy.listen()}/rpc`
      const resumable = { storePath, chunkSize: 8 * MiB, retryDelays: [] }
      let cutAt = 0
      const failed = createClient<typeof vectorMethods>(url, { resumable }).$with({
        onUploadProgress: ({ loaded }) => {
          if (cutAt !== 0 || loaded < size / 2) return
          // The server becomes unreachable and, without retries, the call gives up: its upload stays unfinished.
          cutAt = proxy.forwarded
          proxy.down({ refuse: true })
        }
      }).files.digest(fileFromPath(source.path, { resumable: true }))
      await assert.rejects(failed, (err: unknown) => {
        assert.ok(err instanceof TransportError, String(err))
        assert.equal(err.kind, 'network')
        assert.match(err.message, /resumable upload of fileFromPath\(".*stored\.bin"\) at params\[0\] stopped/)
        return true
      })
      const stored = JSON.parse(await readFile(storePath, 'utf8')) as Record<string, { uploadUrl: string, uploadToken: string }>
      assert.equal(Object.keys(stored).length, 1, 'the unfinished upload is kept in the store')
      assert.match(Object.values(stored)[0]?.uploadToken ?? '', /^[A-Za-z0-9_-]{43}$/, 'with its token')

      proxy.up(server.port)
      // A new client, as a process started again would make: only the store file links it to the first upload.
      const result = await createClient<typeof vectorMethods>(url, { resumable }).files.digest(fileFromPath(source.path, { resumable: true }))
      assert.deepEqual(result, { size, sha256: source.sha256 })
      const sentAgain = proxy.forwarded - cutAt
      assert.ok(sentAgain < size - size / 4, `only the rest was sent (${sentAgain} bytes)`)
      assert.deepEqual(JSON.parse(await readFile(storePath, 'utf8')), {}, 'a successful call forgets the upload it bound')
    } finally {
      await proxy.close()
      await rm(source.path, { force: true })
      await rm(storePath, { force: true })
    }
  })

  test('an abort while the server no longer answers rejects with the reason anyway: the termination is not waited for forever', async () => {
    const size = 64 * MiB
    const source = await sourceFile(dir, 'unanswered.bin', size)
    const proxy = new CuttingProxy(server.port)
    const controller = new AbortController()
    const reason = new Error('user gave up')
    const before = new Set(uploadIds(server.directory))
    let id: string | undefined
    try {
      const call = createClient<typeof vectorMethods>(`${await proxy.listen()}/rpc`).$with({
        signal: controller.signal,
        onUploadProgress: ({ loaded }) => {
          if (id !== undefined || loaded < size / 4) return
          id = uploadIds(server.directory).find((name) => !before.has(name))
          // Every connection is cut and new ones (the retry, the termination) are held unanswered.
          proxy.down()
          controller.abort(reason)
        }
      }).files.digest(fileFromPath(source.path, { resumable: true }))
      await assert.rejects(call, (err: unknown) => {
        assert.ok(err instanceof TransportError, String(err))
        assert.equal(err.kind, 'aborted')
        assert.equal(err.cause, reason)
        return true
      })
      assert.deepEqual(openDescriptors(source.path), [])
      // The termination never reached the server, so the upload is still there, to expire.
      const head = await fetch(`${server.url}/uploads/${id as string}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
      assert.equal(head.status, 200)
    } finally {
      await proxy.close()
      await rm(source.path, { force: true })
    }
  })

  test('the client\'s headers reach the upload endpoint, so a beforeUpload hook can authenticate; its refusal is told', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
    const seen: string[] = []
    const guarded = await startServer({
      methods: vectorMethods,
      uploads: {
        directory,
        secret: SECRET,
        beforeUpload: ({ method, headers }) => {
          seen.push(method)
          if (headers.authorization !== 'Bearer upload-ok') throw new RpcError(ErrorCode.FORBIDDEN, 'uploads need the upload-ok token; sign in first')
        }
      }
    })
    const path = join(dir, 'guarded.txt')
    await writeFile(path, 'only for signed-in clients')
    try {
      const file = () => fileFromPath(path, { resumable: true })
      const signedIn = createClient<typeof vectorMethods>(guarded.url, { headers: { Authorization: 'Bearer upload-ok' } })
      const result = await signedIn.files.read(file())
      assert.equal(result.text, 'only for signed-in clients')
      assert.match(result.field, /^\$upload:/)
      assert.ok(seen.includes('POST') && seen.includes('PATCH'), seen.join(', '))
      await assert.rejects(createClient<typeof vectorMethods>(guarded.url).files.read(file()), (err: unknown) => {
        assert.ok(err instanceof TransportError, String(err))
        assert.equal(err.kind, 'protocol')
        assert.equal(err.status, 403)
        assert.match(err.message, /the server said: uploads need the upload-ok token; sign in first \(code -32012\)/)
        return true
      })
    } finally {
      await guarded.close()
      await rm(directory, { recursive: true, force: true })
    }
  })

  test('a server without uploads fails the call with a TransportError that says so, before any call is made', async () => {
    const plain = await startServer({ methods: vectorMethods })
    const path = join(dir, 'plain.txt')
    await writeFile(path, 'not resumable here')
    try {
      await assert.rejects(createClient<typeof vectorMethods>(plain.url).files.digest(fileFromPath(path, { resumable: true })), (err: unknown) => {
        assert.ok(err instanceof TransportError, String(err))
        assert.equal(err.kind, 'protocol')
        assert.equal(err.status, 404)
        assert.match(err.message, /the server has no resumable uploads \(POST http:\/\/127\.0\.0\.1:\d+\/rpc\/uploads\/ answered 404\)/)
        return true
      })
      assert.deepEqual(openDescriptors(path), [])
    } finally {
      await plain.close()
    }
  })
})

describe('client-node resumable options', () => {
  test('settings of the wrong type fail where they are written, with what to pass', () => {
    const url = 'http://127.0.0.1:1/rpc'
    assert.throws(() => createClient(url, { resumable: { above: -1 } }), /resumable\.above must be a number of bytes >= 0/)
    assert.throws(() => createClient(url, { resumable: { chunkSize: 0 } }), /resumable\.chunkSize must be a whole number of bytes > 0, or Infinity/)
    assert.throws(() => createClient(url, { resumable: { retryDelays: [100, -5] } }), /resumable\.retryDelays must be an array of milliseconds >= 0/)
    assert.throws(() => createClient(url, { resumable: { storePath: '' } }), /resumable\.storePath must be the path of a JSON file/)
    assert.throws(() => createClient(url, { resumable: 'yes' as never }), /options\.resumable must be an object/)
    assert.throws(() => fileFromPath('a.bin', { resumable: 'yes' as never }), /resumable option must be true or false/)
    createClient(url, { resumable: { above: 0, chunkSize: Infinity, retryDelays: [] } }).$with({ resumable: false })
  })
})

describe('client-node resumable uploads of 1 GiB', () => {
  test('1 GiB crosses three cut connections to a server in its own process; the client\'s memory stays flat', async () => {
    const size = 1024 * MiB
    const source = await sourceFile(dir, 'gib.bin', size)
    const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
    const { child, port } = await startUploadChild(directory, ['--isolation', 'inline'])
    const proxy = new CuttingProxy(port, threeCuts(MiB, size - MiB))
    try {
      const api = createClient<typeof vectorMethods>(`${await proxy.listen()}/rpc`)
      const idle = await rssOf(process.pid)
      const events: UploadProgress[] = []
      const { peak, result } = await peakRssDuring(process.pid, async () => await api.$with({ onUploadProgress: (event) => { events.push(event) } })
        .files.digest(fileFromPath(source.path, { resumable: true })))
      assert.deepEqual(result, { size, sha256: source.sha256 })
      assert.equal(proxy.cut, 3)
      assertProgress(events, size)
      const growth = peak - idle
      console.log(`# 1 GiB resumable upload: client process RSS ${(idle / MiB).toFixed(0)} MiB before, peak ${(peak / MiB).toFixed(0)} MiB (+${(growth / MiB).toFixed(1)} MiB)`)
      // A generous bound, far below the file: what would fail it is buffering chunks or the file.
      assert.ok(growth < 128 * MiB, `the client's RSS grew by ${(growth / MiB).toFixed(1)} MiB`)
    } finally {
      await proxy.close()
      await child.stop()
      await rm(directory, { recursive: true, force: true })
      await rm(source.path, { force: true })
    }
  })
})
