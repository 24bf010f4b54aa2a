import assert from 'node:assert/strict'
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { createClient, fileFromPath } from '../src/index.js'
import { sha256, startRecordingServer, type ReceivedRequest, type RecordingServer } from './support/recording-server.js'

let server: RecordingServer
let dir: string
// An untyped client: these tests look at the wire, not at inference.
let api: ReturnType<typeof createClient>

before(async () => {
  server = await startRecordingServer()
  dir = mkdtempSync(join(tmpdir(), 'formcall-client-encode-'))
  api = createClient(server.url)
})
after(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

/** The request the server received last. */
function last (): ReceivedRequest {
  const request = server.requests.at(-1)
  assert.ok(request, 'the server received no request')
  return request
}

function file (name: string, content: string | Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

describe('a call without files', () => {
  test('is sent as application/json holding a JSON-RPC call with the method, positional params and a numeric id', async () => {
    await api.echo('hi', 2, { deep: [true, null] })
    const request = last()
    assert.equal(request.method, 'POST')
    assert.equal(request.path, '/rpc')
    assert.equal(request.headers['content-type'], 'application/json')
    assert.equal(request.call.jsonrpc, '2.0')
    assert.equal(request.call.method, 'echo')
    assert.deepEqual(request.call.params, ['hi', 2, { deep: [true, null] }])
    assert.equal(typeof request.call.id, 'number')
    assert.ok(request.headers['content-length'] !== undefined, 'a JSON body has a Content-Length')
  })

  test('names the method after the property path, to any depth', async () => {
    await api.a.b.c.d.e()
    assert.equal(last().call.method, 'a.b.c.d.e')
    assert.deepEqual(last().call.params, [])
  })

  test('drops trailing undefined arguments so that optional parameters stay undefined on the server', async () => {
    await api.echo('a', undefined, 'c', undefined, undefined)
    assert.deepEqual(last().call.params, ['a', null, 'c'])
  })

  test('gives every call its own id', async () => {
    await api.echo(1)
    const first = last().call.id
    await api.echo(2)
    assert.notEqual(last().call.id, first)
  })

  test('sends named params as an object through $call, and no params member when there are none', async () => {
    await api.$call('files.find', { name: 'a', limit: 3 })
    assert.equal(last().call.method, 'files.find')
    assert.deepEqual(last().call.params, { name: 'a', limit: 3 })
    await api.$call('status')
    assert.equal('params' in last().call, false)
  })

  test('names the method in an X-Formcall-Method header for logs and proxies', async () => {
    await api.reports.monthly()
    assert.equal(last().headers['x-formcall-method'], 'reports.monthly')
  })

  test('rejects params that JSON cannot carry, before anything is sent, with what to do', async () => {
    const count = server.requests.length
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    await assert.rejects(api.echo(cyclic), (err: Error) => err instanceof TypeError && /circular reference at params\[0\]\.self/.test(err.message))
    await assert.rejects(api.echo({ n: 10n }), (err: Error) => err instanceof TypeError && /BigInt/.test(err.message))
    assert.equal(server.requests.length, count)
  })
})

describe('a call with files', () => {
  test('is multipart whose first part is the json field, with {"$file"} placeholders where the files were, at any depth', async () => {
    const a = Buffer.from('first')
    const b = new Blob(['second'], { type: 'text/plain' })
    await api.files.store({ title: 'x', nested: { list: [1, a] } }, [[b]])
    const request = last()
    assert.match(request.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/)
    assert.deepEqual(request.partOrder, ['json', 'f0', 'f1'])
    assert.deepEqual(request.call.params, [{ title: 'x', nested: { list: [1, { $file: 'f0' }] } }, [[{ $file: 'f1' }]]])
    assert.deepEqual(request.parts.map((p) => [p.name, p.text]), [['f0', 'first'], ['f1', 'second']])
  })

  test('sends the same file-like object once, with every place it appears pointing at that one part', async () => {
    const shared = Buffer.from('shared bytes')
    const path = fileFromPath(file('once.txt', 'on disk'))
    await api.files.many({ a: shared, b: [shared, path], c: { d: path } }, shared)
    const request = last()
    assert.deepEqual(request.call.params, [
      { a: { $file: 'f0' }, b: [{ $file: 'f0' }, { $file: 'f1' }], c: { d: { $file: 'f1' } } },
      { $file: 'f0' }
    ])
    assert.deepEqual(request.parts.map((p) => p.name), ['f0', 'f1'])
  })

  test('does not change the caller\'s params while replacing files', async () => {
    const bytes = Buffer.from('x')
    const params = { file: bytes, list: [bytes] }
    await api.files.store(params)
    assert.equal(params.file, bytes)
    assert.equal(params.list[0], bytes)
  })

  test('takes filenames from an fs.ReadStream path, fileFromPath, a File\'s name, and "blob" for unnamed bytes and streams', async () => {
    await api.files.names([
      createReadStream(file('from-stream.csv', 'a,b')),
      fileFromPath(file('from-path.txt', 'p')),
      fileFromPath(file('renamed-on-disk.bin', 'q'), { filename: 'given name.txt' }),
      new File(['f'], 'a-file.json'),
      new Blob(['b']),
      Buffer.from('buf'),
      new Uint8Array([1, 2]),
      Readable.from([Buffer.from('s')]),
      new Blob(['w']).stream()
    ])
    assert.deepEqual(last().parts.map((p) => p.filename), [
      'from-stream.csv', 'from-path.txt', 'given name.txt', 'a-file.json', 'blob', 'blob', 'blob', 'blob', 'blob'
    ])
  })

  test('declares the given type, else the Blob\'s type, else one guessed from the extension, else application/octet-stream', async () => {
    await api.files.types([
      fileFromPath(file('typed.dat', 'x'), { type: 'application/x-custom' }),
      new Blob(['y'], { type: 'image/png' }),
      new File(['z'], 'notes.txt'),
      fileFromPath(file('page.html', '<p>')),
      createReadStream(file('data.json', '{}')),
      Buffer.from('raw'),
      fileFromPath(file('no-extension', 'n'))
    ])
    assert.deepEqual(last().parts.map((p) => p.type), [
      'application/x-custom', 'image/png', 'text/plain', 'text/html', 'application/json', 'application/octet-stream', 'application/octet-stream'
    ])
  })

  test('delivers every kind of file-like byte for byte', async () => {
    const binary = Buffer.alloc(200_000)
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 256
    const path = file('binary.bin', binary)
    const view = new Uint8Array(binary.buffer, binary.byteOffset + 10, 1000)
    await api.files.bytes([
      createReadStream(path),
      fileFromPath(path),
      new Blob([binary]),
      binary,
      view,
      Readable.from([binary.subarray(0, 1000), binary.subarray(1000)]),
      new Blob([binary]).stream()
    ])
    const hashes = last().parts.map((p) => p.sha256)
    const whole = sha256(binary)
    assert.deepEqual(hashes, [whole, whole, whole, whole, sha256(view), whole, whole])
  })

  test('sends only the bytes an fs.ReadStream was opened for, with a Content-Length that matches', async () => {
    const path = file('ranged.txt', '0123456789')
    await api.files.store(createReadStream(path, { start: 2, end: 5 }))
    assert.equal(last().parts[0]?.text, '2345')
    assert.ok(last().headers['content-length'] !== undefined)
  })

  test('keeps a UTF-8 filename intact and escapes quotes and line breaks so they cannot forge part headers', async () => {
    await api.files.names([
      fileFromPath(file('x1', 'a'), { filename: 'Résumé – 履歴書.pdf' }),
      fileFromPath(file('x2', 'b'), { filename: 'say "hi".txt' }),
      fileFromPath(file('x3', 'c'), { filename: 'evil\r\nX-Injected: 1.txt' })
    ])
    assert.deepEqual(last().parts.map((p) => p.filename), [
      'Résumé – 履歴書.pdf', 'say %22hi%22.txt', 'evil%0D%0AX-Injected: 1.txt'
    ])
    assert.deepEqual(last().parts.map((p) => p.text), ['a', 'b', 'c'])
  })

  test('declares Content-Length when every part\'s size is known: Buffers, Blobs, fs.ReadStreams and paths', async () => {
    await api.files.store([Buffer.from('abc'), new Blob(['defg']), createReadStream(file('k1.txt', 'hij')), fileFromPath(file('k2.txt', 'klmno'))])
    const request = last()
    assert.ok(request.headers['content-length'] !== undefined, 'expected a Content-Length')
    assert.equal(request.headers['transfer-encoding'], undefined)
    assert.deepEqual(request.parts.map((p) => p.text), ['abc', 'defg', 'hij', 'klmno'])
  })

  test('sends the body chunked, without Content-Length, when a part\'s size is unknown', async () => {
    await api.files.store([Buffer.from('known'), Readable.from([Buffer.from('unknown length')])])
    const request = last()
    assert.equal(request.headers['content-length'], undefined)
    assert.equal(request.headers['transfer-encoding'], 'chunked')
    assert.deepEqual(request.parts.map((p) => p.text), ['known', 'unknown length'])
  })

  test('sends an empty file as an empty part', async () => {
    await api.files.store([fileFromPath(file('empty.txt', '')), new Blob([]), Buffer.alloc(0)])
    assert.deepEqual(last().parts.map((p) => p.size), [0, 0, 0])
  })
})
