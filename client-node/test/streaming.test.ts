import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
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

const CHUNK = 64 * 1024

/**
 * `total` bytes in fresh 64 KiB chunks, so a client that kept them would hold `total` bytes. With `track`, each
 * chunk is added to it as a weak reference: what is still alive after a full GC is what someone holds.
 */
async function * generate (total: number, beforeSecondChunk?: Promise<void>, track?: Set<WeakRef<Buffer>>): AsyncGenerator<Buffer> {
  for (let sent = 0, i = 0; sent < total; sent += CHUNK, i++) {
    if (i === 1 && beforeSecondChunk !== undefined) await beforeSecondChunk
    const chunk = Buffer.alloc(Math.min(CHUNK, total - sent), i % 251)
    track?.add(new WeakRef(chunk))
    yield chunk
  }
}

/**
 * A full garbage collection. Without it, RSS measures when V8 gets round to freeing dead buffers, not what the
 * client holds: on Node 24 a plain `Readable.from(generate(300 MiB))` piped into a socket, with no formcall at all,
 * grows RSS by ~77 MiB (~41 MiB on Node 20), because V8 13 no longer starts a scavenge on external memory pressure
 * and frees dead ArrayBuffers only on its periodic scavenge task. `--expose-gc` can be set at runtime; `gc` then
 * exists in contexts created afterwards.
 */
function collectGarbage (): void {
  collect ??= (() => {
    setFlagsFromString('--expose-gc')
    return runInNewContext('gc') as () => void
  })()
  collect()
}
let collect: (() => void) | undefined

/** How many of `track`'s chunks are still reachable after a full GC; forgets the collected ones. */
function liveChunks (track: Set<WeakRef<Buffer>>): number {
  collectGarbage()
  for (const ref of track) if (ref.deref() === undefined) track.delete(ref)
  return track.size
}

describe('streaming uploads', () => {
  test('a 300 MB stream is uploaded while the client holds only a few of its chunks and its memory stays far below its size', { timeout: 240_000 }, async () => {
    const total = 300 * MiB
    const api = createClient(server.url)
    const track = new Set<WeakRef<Buffer>>()
    collectGarbage()
    const baseline = process.memoryUsage.rss()
    let peak = baseline
    let mostLive = 0
    let lastProgress: UploadProgress | undefined
    let sampledAt = 0
    const result = await api.$call('files.store', [Readable.from(generate(total, undefined, track))], {
      onUploadProgress: (progress) => {
        lastProgress = progress
        if (progress.loaded - sampledAt >= 8 * MiB) {
          sampledAt = progress.loaded
          mostLive = Math.max(mostLive, liveChunks(track))
          peak = Math.max(peak, process.memoryUsage.rss())
        }
      }
    }) as { parts: Array<{ size: number }> }
    assert.equal(result.parts[0]?.size, total)
    assert.deepEqual(lastProgress, { loaded: lastProgress?.loaded, total: lastProgress?.loaded })
    assert.ok((lastProgress?.loaded ?? 0) > total, 'the body is the file plus the multipart framing')
    // Between the source and the socket are a few streams of one high-water mark each (16 KiB on Node 20, 64 KiB from
    // Node 22): 4-7 chunks are alive when measured, counting those made in the current job, which a WeakRef keeps
    // until it ends. A client that buffered the stream would hold thousands.
    assert.ok(mostLive <= 32, `the client held up to ${mostLive} of the stream's ${total / CHUNK} chunks at once`)
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
