import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { createClient, fileFromPath, type UploadProgress } from '../src/index.js'
import { echoReceived, startRecordingServer, type RecordingServer } from './support/recording-server.js'

const MiB = 1024 * 1024
let server: RecordingServer
let dir: string
/** Resolves when the server has seen a file part's first bytes; set per test. */
let onFirstFileBytes: (() => void) | undefined

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'formcall-client-streaming-'))
  server = await startRecordingServer(async (context) => {
    context.req.once('data', () => {
      // The first chunk holds at least the json part; the file part follows in the next chunks.
      context.req.once('data', () => onFirstFileBytes?.())
    })
    await echoReceived(context)
  })
})
after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

/** `total` bytes in fresh 64 KiB chunks, so a client that kept them would hold `total` bytes. */
async function * generate (total: number, beforeSecondChunk?: Promise<void>): AsyncGenerator<Buffer> {
  const size = 64 * 1024
  for (let sent = 0, i = 0; sent < total; sent += size, i++) {
    if (i === 1 && beforeSecondChunk !== undefined) await beforeSecondChunk
    yield Buffer.alloc(Math.min(size, total - sent), i % 251)
  }
}

describe('streaming uploads', () => {
  test('a 300 MB stream is uploaded while the client\'s memory stays far below its size', { timeout: 240_000 }, async () => {
    const total = 300 * MiB
    const api = createClient(server.url)
    const baseline = process.memoryUsage.rss()
    let peak = baseline
    let lastProgress: UploadProgress | undefined
    let sampledAt = 0
    const result = await api.$call('files.store', [Readable.from(generate(total))], {
      onUploadProgress: (progress) => {
        lastProgress = progress
        if (progress.loaded - sampledAt >= 8 * MiB) {
          sampledAt = progress.loaded
          peak = Math.max(peak, process.memoryUsage.rss())
        }
      }
    }) as { parts: Array<{ size: number }> }
    assert.equal(result.parts[0]?.size, total)
    assert.deepEqual(lastProgress, { loaded: lastProgress?.loaded, total: lastProgress?.loaded })
    assert.ok((lastProgress?.loaded ?? 0) > total, 'the body is the file plus the multipart framing')
    const growth = peak - baseline
    assert.ok(growth < total / 3, `RSS grew by ${Math.round(growth / MiB)} MiB while sending ${total / MiB} MiB`)
  })

  test('a file part reaches the server while its stream is still producing', { timeout: 60_000 }, async () => {
    const api = createClient(server.url)
    // The stream yields its second chunk only after the server got the first: a client that read the whole stream
    // before sending would wait forever here.
    const serverGotFileBytes = new Promise<void>((resolve) => { onFirstFileBytes = resolve })
    const result = await api.files.store(Readable.from(generate(4 * MiB, serverGotFileBytes))) as { parts: Array<{ size: number }> }
    onFirstFileBytes = undefined
    assert.equal(result.parts[0]?.size, 4 * MiB)
  })

  test('progress events grow to the declared Content-Length and the last one has loaded === total', async () => {
    const path = join(dir, 'progress.bin')
    writeFileSync(path, Buffer.alloc(8 * MiB, 1))
    const api = createClient(server.url)
    const events: UploadProgress[] = []
    await api.$with({ onUploadProgress: (p) => events.push(p) }).files.store(fileFromPath(path))
    const declared = Number(server.requests.at(-1)?.headers['content-length'])
    assert.ok(events.length > 1, 'an 8 MiB body is reported in several steps')
    assert.ok(events.every((e) => e.total === declared))
    assert.ok(events.every((e, i) => i === 0 || e.loaded > (events[i - 1]?.loaded ?? 0)), 'loaded only grows')
    assert.deepEqual(events.at(-1), { loaded: declared, total: declared })
  })

  test('a stream of unknown length reports total null while sending, then the final size', async () => {
    const api = createClient(server.url)
    const events: UploadProgress[] = []
    await api.$call('files.store', [Readable.from(generate(2 * MiB))], { onUploadProgress: (p) => events.push(p) })
    const final = events.at(-1)
    assert.ok(events.slice(0, -1).every((e) => e.total === null))
    assert.ok(final !== undefined && final.total === final.loaded && final.loaded > 2 * MiB)
  })

  test('a JSON call reports one progress event with its whole size', async () => {
    const api = createClient(server.url)
    const events: UploadProgress[] = []
    await api.$call('echo', ['hi'], { onUploadProgress: (p) => events.push(p) })
    const declared = Number(server.requests.at(-1)?.headers['content-length'])
    assert.deepEqual(events, [{ loaded: declared, total: declared }])
  })
})
