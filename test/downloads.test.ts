import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { download, downloadFile } from '@formcall/server'
import { randomContent, sha256 } from './support/bytes.js'
import { openRequest, postJson } from './support/raw-http.js'
import { startServer, type RunningServer } from './support/start-server.js'

/** A stream of `chunks` blocks of `block` bytes, made as it is read. */
function generated (chunks: number, block: Buffer): Readable {
  return Readable.from((function * () {
    for (let i = 0; i < chunks; i++) yield block
  })())
}

/** A stream that sends `good` bytes and then fails. */
function failingAfter (good: Buffer): Readable {
  return Readable.from((async function * () {
    yield good
    await new Promise((resolve) => setImmediate(resolve))
    throw new Error('the disk went away mid-download')
  })())
}

/** The filename a client recovers from RFC 5987's `filename*=UTF-8''…`. */
function extendedFilename (disposition: string | undefined): string | undefined {
  const match = /filename\*=UTF-8''([^;]+)/.exec(disposition ?? '')
  return match === null ? undefined : decodeURIComponent(match[1] as string)
}

function asciiFilename (disposition: string | undefined): string | undefined {
  return /filename="((?:[^"\\]|\\.)*)"/.exec(disposition ?? '')?.[1]
}

describe('downloads: methods that return files', () => {
  let server: RunningServer
  let dir = ''
  let onDisk: Buffer = Buffer.alloc(0)
  const block = randomContent(64 * 1024)

  const methods = {
    echo: (value: unknown) => value,
    buffer: () => Buffer.from('a Buffer body'),
    uint8: () => new Uint8Array([0, 1, 2, 255]),
    stream: (chunks: number) => generated(chunks, block),
    blob: () => new Blob(['<p>blob</p>'], { type: 'text/html' }),
    named: (filename: string) => download(Buffer.from('named body'), { filename, type: 'application/pdf' }),
    sizedStream: (chunks: number) => download(generated(chunks, block), { filename: 'sized.bin', size: chunks * block.length }),
    fromDisk: async () => await downloadFile(join(dir, 'report 2024.bin')),
    fromDiskRenamed: async () => await downloadFile(join(dir, 'report 2024.bin'), { filename: 'Bericht März.bin', type: 'application/x-report' }),
    failing: () => failingAfter(block),
    failingSized: () => download(failingAfter(block), { size: 10 * block.length })
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'formcall-downloads-'))
    onDisk = randomContent(3 * 1024 * 1024 + 17)
    await writeFile(join(dir, 'report 2024.bin'), onDisk)
    server = await startServer({ methods })
  })
  after(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('a Buffer result is sent with Content-Length, application/octet-stream, attachment and X-Formcall-Download: 1', async () => {
    const res = await postJson(server.url, { method: 'buffer' })
    assert.equal(res.status, 200)
    assert.equal(res.text, 'a Buffer body')
    assert.equal(res.headers['content-length'], String(Buffer.byteLength('a Buffer body')))
    assert.equal(res.headers['content-type'], 'application/octet-stream')
    assert.equal(res.headers['content-disposition'], 'attachment')
    assert.equal(res.headers['x-formcall-download'], '1')
    assert.equal(res.chunked, false)
  })

  it('a Uint8Array result is sent byte for byte', async () => {
    const res = await postJson(server.url, { method: 'uint8' })
    assert.deepEqual([...res.body], [0, 1, 2, 255])
    assert.equal(res.headers['content-length'], '4')
  })

  it('a Readable result of unknown size is sent chunked, without Content-Length, and arrives whole', async () => {
    const res = await postJson(server.url, { method: 'stream', params: [40] })
    assert.equal(res.status, 200)
    assert.equal(res.chunked, true)
    assert.equal(res.headers['content-length'], undefined)
    assert.equal(res.headers['x-formcall-download'], '1')
    assert.equal(res.body.length, 40 * block.length)
    assert.equal(sha256(res.body), sha256(Buffer.concat(Array.from({ length: 40 }, () => block))))
  })

  it('a stream with a size given to download() is sent with Content-Length, not chunked', async () => {
    const res = await postJson(server.url, { method: 'sizedStream', params: [8] })
    assert.equal(res.chunked, false)
    assert.equal(res.headers['content-length'], String(8 * block.length))
    assert.equal(res.body.length, 8 * block.length)
  })

  it('a Blob result keeps its type and size', async () => {
    const res = await postJson(server.url, { method: 'blob' })
    assert.equal(res.text, '<p>blob</p>')
    assert.equal(res.headers['content-type'], 'text/html')
    assert.equal(res.headers['content-length'], '11')
    assert.equal(res.headers['x-formcall-download'], '1')
  })

  it('download() with a UTF-8 filename sends an ASCII fallback and the exact name as filename*', async () => {
    const name = 'Übersicht – März 2024 (final).pdf'
    const res = await postJson(server.url, { method: 'named', params: [name] })
    const disposition = res.headers['content-disposition']
    assert.ok(disposition?.startsWith('attachment; '), disposition)
    assert.equal(extendedFilename(disposition), name)
    const fallback = asciiFilename(disposition)
    assert.ok(fallback !== undefined && /^[\x20-\x7e]+$/.test(fallback), `ASCII fallback ${fallback}`)
    assert.equal(fallback.length, name.length)
    assert.equal(res.headers['content-type'], 'application/pdf')
    assert.equal(res.text, 'named body')
  })

  it('a filename with quotes, backslashes and CR/LF cannot break out of the header', async () => {
    const name = 'evil"; filename="x.exe\\\r\nX-Injected: 1.txt'
    const res = await postJson(server.url, { method: 'named', params: [name] })
    assert.equal(res.status, 200)
    assert.equal(res.headers['x-injected'], undefined)
    assert.equal(extendedFilename(res.headers['content-disposition']), name)
    assert.ok(!/["\\]/.test(asciiFilename(res.headers['content-disposition']) ?? ''), res.headers['content-disposition'])
  })

  it('downloadFile() sends a file from disk with its size and its basename', async () => {
    const res = await postJson(server.url, { method: 'fromDisk' })
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-length'], String(onDisk.length))
    assert.equal(extendedFilename(res.headers['content-disposition']), 'report 2024.bin')
    assert.equal(res.headers['content-type'], 'application/octet-stream')
    assert.equal(sha256(res.body), sha256(onDisk))
  })

  it('downloadFile() takes a filename and type of its own', async () => {
    const res = await postJson(server.url, { method: 'fromDiskRenamed' })
    assert.equal(extendedFilename(res.headers['content-disposition']), 'Bericht März.bin')
    assert.equal(res.headers['content-type'], 'application/x-report')
    assert.equal(res.body.length, onDisk.length)
  })

  it('a chunked download whose stream fails after the headers is cut off, never ended as if complete', async () => {
    const body = JSON.stringify({ method: 'failing' })
    const req = await openRequest(server.url, { headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } })
    await req.write(body)
    await assert.rejects(req.response, /cut short/)
    assert.equal((await postJson(server.url, { method: 'echo', params: ['after'] })).json().result, 'after')
  })

  it('a sized download whose stream fails after the headers delivers fewer bytes than its Content-Length', async () => {
    const body = JSON.stringify({ method: 'failingSized' })
    const req = await openRequest(server.url, { headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } })
    await req.write(body)
    await assert.rejects(req.response, /cut short/)
    assert.equal((await postJson(server.url, { method: 'echo', params: ['after'] })).json().result, 'after')
  })
})
