import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import { randomUUID } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { BroadcastChannel } from 'node:worker_threads'
import { after, before, describe, it } from 'node:test'
import { ErrorCode, type UploadedFile, type UploadedFiles } from '@formcall/server'
import { digestFile, randomContent, sha256 } from './support/bytes.js'
import { multipartBody, multipartType, partHead, type PartSpec } from './support/multipart.js'
import { Probe } from './support/probe.js'
import { openRequest, postJson, rawRequest, type RawResponse } from './support/raw-http.js'
import { startServer, type RunningServer } from './support/start-server.js'
import { FILE_HEADER_SERVERS } from './support/file-header-servers.js'
import { waitFor } from './support/wait.js'

const MiB = 1024 * 1024
const BOUNDARY = 'formcall-uploads-test'

/** Sends a multipart call with these parts after the `json` part. */
async function callWithParts (url: string, call: unknown, parts: PartSpec[]): Promise<RawResponse> {
  return await rawRequest(url, {
    headers: { 'Content-Type': multipartType(BOUNDARY) },
    body: multipartBody(BOUNDARY, [{ name: 'json', content: JSON.stringify(call) }, ...parts])
  })
}

async function assertStillServing (server: RunningServer): Promise<void> {
  const res = await postJson(server.url, { method: 'echo', params: ['still serving'] })
  assert.equal(res.status, 200, res.text)
  assert.equal(res.json().result, 'still serving')
}

async function assertSpoolEmpty (server: RunningServer): Promise<void> {
  await waitFor(async () => (await server.tmpFiles()).length === 0, 'every spool file to be removed')
}

describe('files streamed into methods', () => {
  let server: RunningServer
  let probe = new Probe()
  let spoolDir = ''

  const methods = {
    echo: (value: unknown) => value,
    /** Reads the second file whole before touching the first, and notes how many spool files exist meanwhile. */
    secondFirst: async (first: UploadedFile, second: UploadedFile) => {
      const b = await digestFile(second)
      probe.note({ spoolFilesWhileFirstUnread: (await readdir(spoolDir)).length })
      const a = await digestFile(first)
      return { first: a, second: b }
    },
    all: async (files: UploadedFile[]) => await Promise.all(files.map(digestFile)),
    /** Reads about half of the first file, all of the second, then the rest of the first. */
    halfThenNext: async (first: UploadedFile, second: UploadedFile, half: number) => {
      const hash = (await import('node:crypto')).createHash('sha256')
      const reader = first[Symbol.asyncIterator]()
      let got = 0
      while (got < half) {
        const step = await reader.next()
        if (step.done === true) break
        hash.update(step.value)
        got += step.value.length
      }
      probe.note({ readOfFirstBeforeSecond: got })
      const b = await digestFile(second)
      for (let step = await reader.next(); step.done !== true; step = await reader.next()) {
        hash.update(step.value)
        got += step.value.length
      }
      return { first: { size: got, sha256: hash.digest('hex') }, second: b }
    },
    list: async (files: UploadedFiles) => {
      const out = []
      for await (const file of files) out.push({ name: file.filename, ...(await digestFile(file)) })
      return out
    },
    /** Ignores its files. */
    ignore: (...args: unknown[]) => ({ received: args.length }),
    watch: async (file: UploadedFile) => await probe.watch(file),
    /** Takes the first file's stream but waits for the second file before reading it. */
    holdThenOther: async (first: UploadedFile, second: UploadedFile) => {
      const held = first.stream
      probe.note({ holding: true })
      try {
        await second.text()
      } finally {
        probe.note({ heldStreamFailed: held.errored !== null })
      }
      return 'unreachable: the upload was cut'
    },
    /** Notes that it started, then reads its file. */
    startThenRead: async (file: UploadedFile) => {
      probe.note({ started: true })
      return await probe.watch(file)
    }
  }

  before(async () => {
    server = await startServer({ methods, limits: { fileSize: 64 * 1024 * 1024, spoolSize: 8 * MiB } })
    spoolDir = server.tmpDir
  })
  after(async () => await server.close())

  it('a method that awaits the second file before reading the first gets both intact, and the spool file is removed afterwards', async () => {
    probe = new Probe()
    const first = randomContent(3 * MiB)
    const second = randomContent(1 * MiB + 7)
    const res = await callWithParts(server.url, { method: 'secondFirst', params: [{ $file: 'a' }, { $file: 'b' }] }, [
      { name: 'a', filename: 'a.bin', type: 'application/octet-stream', content: first },
      { name: 'b', filename: 'b.bin', type: 'application/octet-stream', content: second }
    ])
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.json().result, {
      first: { size: first.length, sha256: sha256(first) },
      second: { size: second.length, sha256: sha256(second) }
    })
    // The first part had to go somewhere while the method read the second: to a spool file in the server's tmpDir.
    assert.ok((probe.notes[0]?.spoolFilesWhileFirstUnread as number) >= 1, JSON.stringify(probe.notes))
    await assertSpoolEmpty(server)
    await assertStillServing(server)
  })

  it('Promise.all over three files reads each one intact', async () => {
    const contents = [randomContent(2 * MiB), randomContent(5), randomContent(MiB + 3)]
    const res = await callWithParts(server.url, { method: 'all', params: [[{ $file: 'x' }, { $file: 'y' }, { $file: 'z' }]] },
      contents.map((content, i) => ({ name: 'xyz'[i] as string, filename: `${i}.bin`, content })))
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.json().result, contents.map((content) => ({ size: content.length, sha256: sha256(content) })))
    await assertSpoolEmpty(server)
  })

  it('a method that reads half of one file, then the next file, then the rest of the first gets both intact', async () => {
    probe = new Probe()
    const first = randomContent(4 * MiB)
    const second = randomContent(2 * MiB)
    const res = await callWithParts(server.url, { method: 'halfThenNext', params: [{ $file: 'a' }, { $file: 'b' }, 2 * MiB] }, [
      { name: 'a', filename: 'a.bin', content: first },
      { name: 'b', filename: 'b.bin', content: second }
    ])
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.json().result, {
      first: { size: first.length, sha256: sha256(first) },
      second: { size: second.length, sha256: sha256(second) }
    })
    const readFirst = probe.notes[0]?.readOfFirstBeforeSecond as number
    assert.ok(readFirst >= 2 * MiB && readFirst < first.length, `read ${readFirst} bytes of the first file before the second`)
    await assertSpoolEmpty(server)
  })

  it('a $files list yields every part of its name in order, intact, while other parts between them are drained', async () => {
    const docs = [randomContent(MiB), randomContent(10), randomContent(3 * MiB)]
    const res = await callWithParts(server.url, { method: 'list', params: [{ $files: 'docs' }] }, [
      { name: 'docs', filename: 'd0', content: docs[0] as Buffer },
      { name: 'noise', filename: 'n', content: randomContent(2 * MiB) },
      { name: 'docs', filename: 'd1', content: docs[1] as Buffer },
      { name: 'docs', filename: 'd2', content: docs[2] as Buffer }
    ])
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.json().result, docs.map((content, i) => ({ name: `d${i}`, size: content.length, sha256: sha256(content) })))
  })

  it('several MB of files nobody reads are drained and the response is still sent', async () => {
    const res = await callWithParts(server.url, { method: 'ignore', params: [{ $file: 'a' }, { $file: 'b' }] }, [
      { name: 'a', filename: 'a.bin', content: randomContent(4 * MiB) },
      { name: 'unreferenced', filename: 'u.bin', content: randomContent(3 * MiB) },
      { name: 'b', filename: 'b.bin', content: randomContent(4 * MiB) }
    ])
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.json().result, { received: 2 })
    await assertSpoolEmpty(server)
    await assertStillServing(server)
  })

  it('after a method answers without reading its upload, the same keep-alive connection serves the next call', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const send = async (body: Buffer, type: string): Promise<{ status: number, text: string, reused: boolean }> =>
        await new Promise((resolve, reject) => {
          const req = httpRequest(server.url, { method: 'POST', agent, headers: { 'content-type': type, 'content-length': body.length } }, (res) => {
            const chunks: Buffer[] = []
            res.on('data', (chunk: Buffer) => chunks.push(chunk))
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), reused: req.reusedSocket }))
          })
          req.on('error', reject)
          req.end(body)
        })
      const upload = multipartBody(BOUNDARY, [
        { name: 'json', content: JSON.stringify({ method: 'ignore', params: [{ $file: 'f' }] }) },
        { name: 'f', filename: 'f.bin', content: randomContent(3 * MiB) }
      ])
      const first = await send(upload, multipartType(BOUNDARY))
      assert.equal(first.status, 200, first.text)
      const second = await send(Buffer.from(JSON.stringify({ method: 'echo', params: ['same socket'] })), 'application/json')
      assert.equal(second.status, 200, second.text)
      assert.equal(JSON.parse(second.text).result, 'same socket')
      assert.equal(second.reused, true, 'the second call went over the first call\'s connection')
    } finally {
      agent.destroy()
    }
  })

  it('the method starts while its file is still arriving and reads the bytes as they come', async () => {
    probe = new Probe()
    const content = randomContent(2 * MiB)
    const head = partHead(BOUNDARY, { name: 'json' }) + JSON.stringify({ method: 'startThenRead', params: [{ $file: 'f' }] }) + '\r\n' +
      partHead(BOUNDARY, { name: 'f', filename: 'f.bin' })
    const tail = `\r\n--${BOUNDARY}--\r\n`
    const req = await openRequest(server.url, {
      headers: { 'Content-Type': multipartType(BOUNDARY), 'Content-Length': String(Buffer.byteLength(head) + content.length + tail.length) }
    })
    await req.write(head)
    await req.write(content.subarray(0, 256 * 1024))
    // Nothing more is sent until the method has started and read bytes: it cannot have waited for the whole body.
    await probe.until((p) => p.notes.length > 0 && p.bytes > 0, 'the method to start and read the first bytes')
    assert.equal(probe.ended, false)
    await req.write(content.subarray(256 * 1024))
    await req.write(tail)
    const res = await req.response
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.json().result, { bytes: content.length, ended: true })
  })

  it('a truncated upload (the client vanishes mid-part) fails the method\'s stream, never ends it, and the server keeps serving', async () => {
    probe = new Probe()
    const declared = 4 * MiB
    const head = partHead(BOUNDARY, { name: 'json' }) + JSON.stringify({ method: 'watch', params: [{ $file: 'f' }] }) + '\r\n' +
      partHead(BOUNDARY, { name: 'f', filename: 'f.bin' })
    const tail = `\r\n--${BOUNDARY}--\r\n`
    const req = await openRequest(server.url, {
      headers: { 'Content-Type': multipartType(BOUNDARY), 'Content-Length': String(Buffer.byteLength(head) + declared + tail.length) }
    })
    await req.write(head)
    await req.write(randomContent(512 * 1024))
    await probe.until((p) => p.bytes > 0, 'the method to read the first bytes')
    req.destroy()
    await probe.until((p) => p.error !== undefined || p.ended, 'the method\'s stream to end or fail')
    assert.equal(probe.ended, false, `the method saw a complete 'end': ${JSON.stringify(probe.events.at(-1))}`)
    assert.ok(probe.error !== undefined)
    assert.ok(probe.bytes < declared)
    await assertSpoolEmpty(server)
    await assertStillServing(server)
  })

  it('a method holding a file\'s stream without listening to it yet survives the upload failing, and so does the server', async () => {
    probe = new Probe()
    const head = partHead(BOUNDARY, { name: 'json' }) + JSON.stringify({ method: 'holdThenOther', params: [{ $file: 'a' }, { $file: 'b' }] }) + '\r\n' +
      partHead(BOUNDARY, { name: 'a', filename: 'a.bin' })
    const req = await openRequest(server.url, {
      headers: { 'Content-Type': multipartType(BOUNDARY), 'Content-Length': String(64 * MiB) }
    })
    await req.write(head)
    await req.write(randomContent(MiB))
    await probe.until((p) => p.notes.some((n) => n.holding === true), 'the method to take the stream')
    req.destroy()
    await probe.until((p) => p.notes.some((n) => 'heldStreamFailed' in n), 'the method to see the failure')
    assert.deepEqual(probe.notes.at(-1), { heldStreamFailed: true })
    await assertSpoolEmpty(server)
    await assertStillServing(server)
  })

  it('a truncated upload the method waits on out of order fails the spooled file too and leaves no spool file', async () => {
    probe = new Probe()
    const head = partHead(BOUNDARY, { name: 'json' }) + JSON.stringify({ method: 'secondFirst', params: [{ $file: 'a' }, { $file: 'b' }] }) + '\r\n' +
      partHead(BOUNDARY, { name: 'a', filename: 'a.bin' })
    const req = await openRequest(server.url, {
      headers: { 'Content-Type': multipartType(BOUNDARY), 'Content-Length': String(64 * MiB) }
    })
    await req.write(head)
    await req.write(randomContent(2 * MiB))
    // The method waits for "b", so "a" is being spooled to disk.
    await waitFor(async () => (await server.tmpFiles()).length > 0, 'a spool file to appear')
    req.destroy()
    await assertSpoolEmpty(server)
    await assertStillServing(server)
  })
})

describe('file limits seen from inside the method', () => {
  let server: RunningServer
  let probe = new Probe()
  const methods = {
    echo: (value: unknown) => value,
    watch: async (file: UploadedFile) => await probe.watch(file),
    /** Reads the last file first, so the two before it are spooled to disk. */
    lastFirst: async (first: UploadedFile, second: UploadedFile, last: UploadedFile) => {
      await digestFile(last)
      return [await digestFile(first), await digestFile(second)]
    }
  }

  before(async () => {
    server = await startServer({ methods, limits: { fileSize: 256 * 1024, spoolSize: 300 * 1024 } })
  })
  after(async () => await server.close())

  it('a file past fileSize fails the method\'s stream with LIMIT_EXCEEDED and the call with 413', async () => {
    probe = new Probe()
    const res = await callWithParts(server.url, { method: 'watch', params: [{ $file: 'f' }], id: 1 }, [
      { name: 'f', filename: 'big.bin', content: randomContent(3 * MiB) }
    ])
    assert.equal(res.status, 413, res.text)
    assert.deepEqual(res.json().error.data, { limit: 'fileSize', max: 256 * 1024, part: 'f' })
    assert.equal(res.json().id, 1)
    await probe.until((p) => p.error !== undefined || p.ended, 'the method\'s stream to end or fail')
    assert.equal(probe.ended, false)
    assert.equal(probe.error?.code, ErrorCode.LIMIT_EXCEEDED)
    assert.ok(probe.bytes <= 256 * 1024, `the method saw ${probe.bytes} bytes, more than fileSize`)
    await assertStillServing(server)
  })

  it('out-of-order reads that need more than spoolSize on disk, summed over the files, fail with 413 naming spoolSize', async () => {
    const res = await callWithParts(server.url, { method: 'lastFirst', params: [{ $file: 'a' }, { $file: 'b' }, { $file: 'c' }] }, [
      { name: 'a', filename: 'a.bin', content: randomContent(200 * 1024) },
      { name: 'unreferenced', filename: 'u.bin', content: randomContent(200 * 1024) },
      { name: 'b', filename: 'b.bin', content: randomContent(200 * 1024) },
      { name: 'c', filename: 'c.bin', content: randomContent(1024) }
    ])
    // "a" and "b" (each within fileSize) are spooled while the method waits for "c": 400 KiB of a 300 KiB budget.
    // The unreferenced part is drained, not spooled, so it does not count.
    assert.equal(res.status, 413, res.text)
    assert.equal(res.json().error.data.limit, 'spoolSize')
    await assertSpoolEmpty(server)
    await assertStillServing(server)
  })
})

describe('a file\'s filename and type are its part\'s, never a default (inline and in a worker pool)', () => {
  const modes = FILE_HEADER_SERVERS

  /** A body whose second file part is held back until the method has started, so its headers cannot have arrived. */
  async function callWithLateSecondPart (server: RunningServer, method: string): Promise<RawResponse> {
    const channel = new BroadcastChannel(`formcall-file-headers-${randomUUID()}`)
    const started = new Promise<void>((resolve) => { channel.onmessage = () => resolve() })
    try {
      const call = { method, params: [channel.name, { $file: 'a' }, { $file: 'b' }], id: 1 }
      const first = multipartBody(BOUNDARY, [
        { name: 'json', content: JSON.stringify(call) },
        { name: 'a', filename: 'a.txt', type: 'text/plain', content: 'first file' }
      ], { close: false })
      const rest = multipartBody(BOUNDARY, [{ name: 'b', filename: 'b.bin', type: 'application/x-thing', content: 'second file' }])
      const request = await openRequest(server.url, {
        headers: { 'Content-Type': multipartType(BOUNDARY), 'Content-Length': String(first.length + rest.length) }
      })
      await request.write(first)
      await started
      await request.write(rest)
      return await request.response
    } finally {
      channel.close()
    }
  }

  for (const { mode, start } of modes) {
    describe(mode, () => {
      let server: RunningServer
      before(async () => { server = await start() })
      after(async () => await server.close())

      it('the part right after json is known when the method starts; reading a later one\'s filename or type before its part arrived throws, naming ready()', async () => {
        const res = await callWithLateSecondPart(server, 'files.headersAtStart')
        assert.equal(res.status, 200, res.text)
        const { atStart, afterReady } = res.json().result
        assert.deepEqual(atStart.firstFilename, { value: 'a.txt' })
        assert.deepEqual(atStart.firstType, { value: 'text/plain' })
        assert.equal(atStart.secondArrived, false)
        assert.match(atStart.secondFilename.threw, /part "b" have not arrived yet.*await file\.ready\(\) first/)
        assert.match(atStart.secondType.threw, /await file\.ready\(\) first/)
        assert.deepEqual(atStart.secondJson, { field: 'b' })
        assert.deepEqual(afterReady, { filename: 'b.bin', type: 'application/x-thing' })
      })

      it('a later part\'s headers are known as soon as it arrived, without ready() or a read', async () => {
        const res = await callWithLateSecondPart(server, 'files.headersOnArrival')
        assert.equal(res.status, 200, res.text)
        assert.deepEqual(res.json().result, { size: 'first file'.length, filename: 'b.bin', type: 'application/x-thing', text: 'second file' })
      })
    })
  }
})

describe('a method that reads a later part first is never held up by earlier small parts it has not read (inline and in a worker pool)', () => {
  for (const { mode, start } of FILE_HEADER_SERVERS) {
    describe(mode, () => {
      let server: RunningServer
      before(async () => { server = await start() })
      after(async () => await server.close())

      it('reads a $files list to its end before an earlier, unread file part', async () => {
        const res = await callWithParts(server.url, { method: 'order.listThenFile', params: [{ $files: 'd' }, { $file: 'note' }], id: 1 }, [
          { name: 'note', filename: 'note.txt', content: 'small note' },
          { name: 'd', filename: 'one.txt', content: 'doc one' },
          { name: 'd', filename: 'two.txt', content: 'doc two' }
        ])
        assert.equal(res.status, 200, res.text)
        assert.deepEqual(res.json().result, { docs: ['doc one', 'doc two'], note: 'small note' })
        await assertSpoolEmpty(server)
      })

      it('reads its last file first, the earlier small ones still whole', async () => {
        const res = await callWithParts(server.url, { method: 'order.lastFirst', params: [{ $file: 'a' }, { $file: 'b' }, { $file: 'c' }], id: 2 },
          [{ name: 'a', filename: 'a.txt', content: 'alpha' }, { name: 'b', filename: 'b.txt', content: 'beta' }, { name: 'c', filename: 'c.txt', content: 'gamma' }])
        assert.equal(res.status, 200, res.text)
        assert.deepEqual(res.json().result, ['alpha', 'beta', 'gamma'])
      })

      it('gets MISSING_FILE at once for a last file that never comes, earlier small parts unread', async () => {
        const res = await callWithParts(server.url, { method: 'order.lastFirst', params: [{ $file: 'a' }, { $file: 'b' }, { $file: 'c' }], id: 3 },
          [{ name: 'a', filename: 'a.txt', content: 'alpha' }, { name: 'b', filename: 'b.txt', content: 'beta' }])
        assert.equal(res.json().error.code, ErrorCode.MISSING_FILE, res.text)
      })
    })
  }
})
