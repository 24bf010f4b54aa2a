/**
 * Slow clients against a worker pool: time a complete upload spends waiting for an upload lane is not the client
 * stalling, and uploads that trickle below `minUploadRate` lose their lane, so healthy uploads behind them are served.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { generatedChunks, sha256 } from './support/pool-bytes.js'
import { PoolChannel } from './support/pool-channel.js'
import { PendingUpload, startPoolServer, type PoolServer } from './support/pool-server.js'
import { waitFor } from './support/wait.js'

const KiB = 1024
const PATIENCE = 20_000
/** The measuring window: short, so the tests run fast; the default is 30 s. */
const WINDOW = 400

function contentOf (size: number): Buffer {
  return Buffer.concat([...generatedChunks(size)])
}

describe('slow clients and upload lanes (2 workers, 1 upload lane)', () => {
  let server: PoolServer
  before(async () => {
    // Two workers keep a quarter (rounded up to one) free of uploads: one upload lane.
    server = await startPoolServer({ workers: 2, idleUploadTimeout: WINDOW, minUploadRate: 16 * KiB })
  })
  after(async () => await server?.close())

  test('a complete upload that waits for a lane longer than the idle window is served, not blamed for stalling', async () => {
    const channel = new PoolChannel()
    try {
      const holder = await PendingUpload.open(server.url,
        { method: 'uploads.holdThenDigest', params: [{ $file: 'f' }, channel.name, 'holder'] },
        [{ name: 'f', filename: 'holder.bin', content: contentOf(4 * KiB) }])
      await holder.sendRest()
      await channel.next((event) => event.event === 'started' && event.id === 'holder')

      const content = contentOf(64 * KiB)
      const waiting = await PendingUpload.open(server.url, { method: 'uploads.digest', params: [{ $file: 'f' }] },
        [{ name: 'f', filename: 'waiting.bin', content }])
      await waiting.sendRest()
      // Three windows with the whole body sent and no lane free: the watchdog must not count this against the client.
      await new Promise((resolve) => setTimeout(resolve, 3 * WINDOW))
      assert.equal(waiting.answered, false, 'the waiting upload is still queued for the lane')

      channel.post({ event: 'release', id: 'holder' })
      assert.equal((await holder.response).status, 200)
      const response = await waiting.response
      assert.equal(response.status, 200, response.text)
      assert.equal(response.json().result.sha256, sha256(content))
    } finally {
      channel.close()
    }
  })

  test('an upload trickling below minUploadRate fails with 408 UPLOAD_STALLED naming the rate, and frees its lane', async () => {
    const content = contentOf(256 * KiB)
    const trickler = await PendingUpload.open(server.url, { method: 'uploads.digest', params: [{ $file: 'f' }] },
      [{ name: 'f', filename: 'trickle.bin', content }])
    let offset = trickler.contentStart(0)
    const drip = setInterval(() => {
      offset += 64
      trickler.sendUntil(offset).catch(() => {})
    }, 50)
    try {
      const response = await trickler.response
      assert.equal(response.status, 408, response.text)
      assert.equal(response.json().error.code, -32013)
      assert.match(response.json().error.message, /minUploadRate/)
    } finally {
      clearInterval(drip)
    }

    // The lane is free again: a healthy upload goes through.
    const healthy = contentOf(128 * KiB)
    const next = await PendingUpload.open(server.url, { method: 'uploads.digest', params: [{ $file: 'f' }] },
      [{ name: 'f', filename: 'healthy.bin', content: healthy }])
    await next.sendRest()
    const response = await next.response
    assert.equal(response.status, 200, response.text)
    assert.equal(response.json().result.sha256, sha256(healthy))
  })

  test('a healthy upload queued behind a trickler holding the only lane is served once the trickler is cut', async () => {
    const trickler = await PendingUpload.open(server.url, { method: 'uploads.digest', params: [{ $file: 'f' }] },
      [{ name: 'f', filename: 'trickle.bin', content: contentOf(256 * KiB) }])
    let offset = trickler.contentStart(0) + 1
    await trickler.sendUntil(offset)
    const drip = setInterval(() => {
      offset += 16
      trickler.sendUntil(offset).catch(() => {})
    }, 50)
    try {
      const healthy = contentOf(512 * KiB)
      const queued = await PendingUpload.open(server.url, { method: 'uploads.digest', params: [{ $file: 'f' }] },
        [{ name: 'f', filename: 'queued.bin', content: healthy }])
      await queued.sendRest()
      const response = await queued.response
      assert.equal(response.status, 200, response.text)
      assert.equal(response.json().result.sha256, sha256(healthy))
      await waitFor(() => trickler.answered, 'the trickler is cut', PATIENCE)
      assert.equal((await trickler.response).status, 408)
    } finally {
      clearInterval(drip)
    }
  })
})
