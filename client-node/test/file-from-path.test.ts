import assert from 'node:assert/strict'
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createClient, fileFromPath, LocalFile } from '../src/index.js'
import { openDescriptors } from './support/open-descriptors.js'
import { receive, sendEnvelope, startRecordingServer, type RecordingServer } from './support/recording-server.js'

let server: RecordingServer
let dir: string
/** While set, called whenever a file part starts arriving at the server. */
let onPartStart: (() => void) | undefined

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'formcall-client-path-'))
  server = await startRecordingServer(async ({ req, res }) => {
    req.on('data', () => onPartStart?.())
    const received = await receive(req, 0)
    sendEnvelope(res, 200, { jsonrpc: '2.0', id: received.call.id, result: received.parts.map((p) => ({ filename: p.filename, size: p.size, text: p.text })) })
  })
})
after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

function file (name: string, content: string | Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

describe('fileFromPath', () => {
  test('opens nothing when created: the path need not even exist yet', () => {
    const path = file('lazy.txt', 'content')
    const local = fileFromPath(path)
    assert.ok(local instanceof LocalFile)
    assert.deepEqual(openDescriptors(path), [])
    assert.equal(fileFromPath(join(dir, 'not-yet.txt')).filename, 'not-yet.txt')
  })

  test('carries the base name or the given filename and type', () => {
    const local = fileFromPath('/srv/in/photo.jpeg', { filename: 'me.jpg', type: 'image/jpeg' })
    assert.deepEqual([local.path, local.filename, local.type], ['/srv/in/photo.jpeg', 'me.jpg', 'image/jpeg'])
    assert.deepEqual([fileFromPath('a/b/c.txt').filename, fileFromPath('c.txt').type], ['c.txt', undefined])
  })

  test('refuses an empty path at once', () => {
    assert.throws(() => fileFromPath(''), /non-empty path/)
  })

  test('is measured when sent, so a file that grew since sends all its bytes with a matching Content-Length', async () => {
    const path = file('growing.log', 'line 1\n')
    const local = fileFromPath(path)
    appendFileSync(path, 'line 2\n')
    const parts = await createClient(server.url).logs.upload(local) as Array<{ text: string }>
    assert.equal(parts[0]?.text, 'line 1\nline 2\n')
    assert.equal(Number(server.requests.at(-1)?.headers['content-length']) > 14, true)
  })

  test('leaves no descriptor open once the call has resolved', async () => {
    const path = file('closed-after.txt', Buffer.alloc(300_000, 3))
    await createClient(server.url).files.store(fileFromPath(path))
    assert.deepEqual(openDescriptors(path), [])
  })

  test('opens the files of a call one after the other, not all at once', async () => {
    const paths = Array.from({ length: 40 }, (_, i) => file(`many-${i}.bin`, Buffer.alloc(100_000, i)))
    let mostOpen = 0
    onPartStart = () => {
      mostOpen = Math.max(mostOpen, paths.filter((p) => openDescriptors(p).length > 0).length)
    }
    try {
      const parts = await createClient(server.url).files.storeMany(paths.map((p) => fileFromPath(p))) as Array<{ size: number }>
      assert.deepEqual(parts.map((p) => p.size), paths.map(() => 100_000))
    } finally {
      onPartStart = undefined
    }
    assert.ok(mostOpen >= 1, 'the server saw the upload while files were open')
    assert.ok(mostOpen <= 2, `${mostOpen} of ${paths.length} files were open at once`)
  })

  test('a directory rejects the call with what to pass instead', async () => {
    const sub = join(dir, 'a-directory')
    mkdirSync(sub)
    await assert.rejects(createClient(server.url).files.store(fileFromPath(sub)), /it is a directory; pass the path of a file/)
  })
})
