import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { createClient, fileFromPath, type DownloadedFile, type FileLike } from '@formcall/client-node'
import { download, ErrorCode, RpcError, type UploadedFile } from '@formcall/server'
import { startServer, type RunningServer } from './support/start-server.js'

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

async function describeFile (file: UploadedFile): Promise<{ filename: string | null, type: string, size: number, sha256: string }> {
  const bytes = await file.bytes()
  return { filename: file.filename, type: file.type, size: bytes.length, sha256: sha256(bytes) }
}

/** The methods this file calls, served by a real formcall server. */
const methods = {
  echo: (value: unknown) => value,
  describe: describeFile,
  describeAll: async (files: UploadedFile[]) => await Promise.all(files.map(describeFile)),
  store: async ({ title, file }: { title: string, file: UploadedFile }) => ({ title, ...(await describeFile(file)) }),
  /** Reads the second file completely before the first. */
  secondFirst: async (first: UploadedFile, second: UploadedFile) => {
    const b = await second.text()
    const a = await first.text()
    return [a, b]
  },
  /** Reads nothing. */
  ignore: async (_files: UploadedFile[]) => 'ignored',
  fail: (code: number) => { throw new RpcError(code, `failing with ${code} as asked`, { asked: code }) },
  raise: () => { throw new Error('plain failure') },
  report: (text: string) => download(Buffer.from(text), { filename: 'résumé.txt', type: 'text/plain' })
}

describe('client-node against a real formcall server', () => {
  let server: RunningServer
  let api: ReturnType<typeof createClient<typeof methods>>
  let dir: string
  const content = Buffer.from('formcall '.repeat(100_000))

  before(async () => {
    server = await startServer({ methods, limits: { fileSize: 2 * 1024 * 1024, files: 3 } })
    api = createClient<typeof methods>(server.url)
    dir = await mkdtemp(join(tmpdir(), 'formcall-client-e2e-'))
    await writeFile(join(dir, 'notes.txt'), content)
  })
  after(async () => {
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('sends every file-like type as a file the method reads intact', async () => {
    const path = join(dir, 'notes.txt')
    const cases: Array<[string, () => FileLike, string | null]> = [
      ['fs.ReadStream', () => createReadStream(path), 'notes.txt'],
      ['fileFromPath', () => fileFromPath(path), 'notes.txt'],
      ['Readable', () => Readable.from([content.subarray(0, 1000), content.subarray(1000)]), null],
      ['web ReadableStream', () => new Blob([content]).stream(), null],
      ['Blob', () => new Blob([content], { type: 'text/plain' }), null],
      ['File', () => new File([content], 'named.txt', { type: 'text/plain' }), 'named.txt'],
      ['Buffer', () => content, null],
      ['Uint8Array', () => new Uint8Array(content), null]
    ]
    for (const [what, make, filename] of cases) {
      const result = await api.describe(make())
      assert.equal(result.size, content.length, what)
      assert.equal(result.sha256, sha256(content), what)
      if (filename !== null) assert.equal(result.filename, filename, what)
    }
  })

  it('sends several files and files nested in named params', async () => {
    const files = [Buffer.from('one'), new Blob(['two']), fileFromPath(join(dir, 'notes.txt'))]
    const results = await api.describeAll(files)
    assert.deepEqual(results.map((r) => r.size), [3, 3, content.length])
    const stored = await api.store({ title: 'Q3', file: new File([content], 'q3.txt') })
    assert.equal(stored.title, 'Q3')
    assert.equal(stored.sha256, sha256(content))
  })

  it('lets the method read its files out of order', async () => {
    assert.deepEqual(await api.secondFirst(Buffer.from('first'), Buffer.from('second')), ['first', 'second'])
  })

  it('gets an answer when the method reads none of its files, and the spool directory stays empty', async () => {
    assert.equal(await api.ignore([Buffer.alloc(500_000), new Blob([content])]), 'ignored')
    assert.deepEqual(await server.tmpFiles(), [])
  })

  it('receives a download as a file with its UTF-8 filename, type and size', async () => {
    const file: DownloadedFile = await api.report('a,b\n')
    assert.equal(file.filename, 'résumé.txt')
    assert.equal(file.type, 'text/plain')
    assert.equal(file.size, 4)
    assert.equal(await file.text(), 'a,b\n')
  })

  it('rejects with RpcError carrying the code, message and data of each error class', async () => {
    for (const code of [ErrorCode.INVALID_PARAMS, ErrorCode.FORBIDDEN, ErrorCode.UNAUTHORIZED, 4242]) {
      await assert.rejects(api.fail(code), (err: unknown) => {
        assert.ok(err instanceof RpcError)
        assert.equal(err.code, code)
        assert.deepEqual(err.data, { asked: code })
        return true
      })
    }
    await assert.rejects(api.raise(), (err: unknown) => err instanceof RpcError && err.code === ErrorCode.METHOD_RAISED && err.message === 'plain failure')
    await assert.rejects(api.$call('nope.nothing'), (err: unknown) => err instanceof RpcError && err.code === ErrorCode.METHOD_NOT_FOUND)
    await assert.rejects(api.$call('toString'), (err: unknown) => err instanceof RpcError && err.code === ErrorCode.METHOD_NOT_FOUND)
  })

  it('rejects with LIMIT_EXCEEDED past the file size and file count limits, and the server keeps serving', async () => {
    await assert.rejects(api.describe(Buffer.alloc(3 * 1024 * 1024)), (err: unknown) =>
      err instanceof RpcError && err.code === ErrorCode.LIMIT_EXCEEDED && (err.data as { limit: string }).limit === 'fileSize')
    await assert.rejects(api.describeAll([1, 2, 3, 4].map((n) => Buffer.from(String(n)))), (err: unknown) =>
      err instanceof RpcError && err.code === ErrorCode.LIMIT_EXCEEDED && (err.data as { limit: string }).limit === 'files')
    assert.equal(await api.echo('still here'), 'still here')
    assert.deepEqual(await server.tmpFiles(), [])
  })

  it('reports upload progress up to the full size', async () => {
    const seen: number[] = []
    const result = await api.$with({ onUploadProgress: ({ loaded }) => seen.push(loaded) }).describe(content)
    assert.equal(result.size, content.length)
    assert.ok(seen.length > 0)
    assert.ok(seen.every((loaded, i) => i === 0 || loaded >= (seen[i - 1] as number)), 'progress never goes back')
    assert.ok((seen.at(-1) as number) >= content.length)
  })

  it('sends a file saved to disk by the method back byte for byte', async () => {
    const saved = join(dir, 'roundtrip.bin')
    await writeFile(saved, content)
    const result = await api.describe(fileFromPath(saved))
    assert.equal(result.sha256, sha256(await readFile(saved)))
  })
})
