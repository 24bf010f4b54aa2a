/**
 * Resumable uploads end to end: a tus 1.0 endpoint beside the call endpoint, fed by tus-js-client through a proxy that
 * cuts the connection, and calls that bind the finished upload with `$upload`, in both isolation modes.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import * as tus from 'tus-js-client'
import { ErrorCode, RpcError, type CreateServerOptions, type UploadRequestInfo } from '@formcall/server'
import { CLI_FROM_SOURCE, startChild } from './support/child-process.js'
import { multipartBody, multipartType } from './support/multipart.js'
import { openRequest, postJson, rawRequest } from './support/raw-http.js'
import { CuttingProxy } from './support/cutting-proxy.js'
import { SeededRandom } from './support/seeded-random.js'
import { startServer, startUploadServer, type RunningServer } from './support/start-server.js'
import { vectorMethods } from './support/vector-methods.js'
import { waitFor } from './support/wait.js'

const MiB = 1024 * 1024
const random = new SeededRandom(Number(process.env.FORMCALL_SEED ?? Date.now() % 2 ** 31))
console.log(`resumable uploads: seed ${random.seed} (FORMCALL_SEED=${random.seed} replays the cut offsets)`)

const MODES: ReadonlyArray<{ mode: string, options: Omit<CreateServerOptions, 'tmpDir'> }> = [
  { mode: 'inline', options: { methods: vectorMethods } },
  {
    mode: 'worker',
    options: { methodsModule: fileURLToPath(new URL('./support/vector-methods.ts', import.meta.url)), isolation: 'worker', workers: 1 }
  }
]


/** A file of `size` random bytes in a fresh temp directory, with its SHA-256. */
async function randomFile (size: number): Promise<{ path: string, sha256: string, remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'formcall-test-source-'))
  const path = join(dir, 'source.bin')
  const hash = createHash('sha256')
  const out = createWriteStream(path)
  for (let written = 0; written < size;) {
    const chunk = randomBytes(Math.min(4 * MiB, size - written))
    hash.update(chunk)
    written += chunk.length
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => { if (err) reject(err); else resolve() }))
  return { path, sha256: hash.digest('hex'), remove: async () => await rm(dir, { recursive: true, force: true }) }
}


/** Uploads a file with tus-js-client; resolves with the upload's URL and its token. */
async function tusUpload (endpoint: string, path: string, metadata: Record<string, string>): Promise<{ url: string, token: string, retries: number }> {
  let token: string | undefined
  let retries = 0
  const url = await new Promise<string>((resolve, reject) => {
    const upload = new tus.Upload(createReadStream(path), {
      endpoint,
      metadata,
      // Enough tries for every cut; each resumes from the offset the server acknowledged (a HEAD, then a PATCH).
      retryDelays: [0, 50, 100, 200, 400, 800, 1600],
      storeFingerprintForResuming: false,
      onShouldRetry: () => {
        retries++
        return true
      },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'POST') token = res.getHeader('Upload-Token') ?? undefined
      },
      onError: reject,
      onSuccess: () => resolve(upload.url as string)
    })
    upload.start()
  })
  assert.ok(token !== undefined && token !== '', 'the creation answered with an Upload-Token')
  return { url, token, retries }
}

/** Creates an upload of `length` bytes over plain HTTP; resolves with its URL, id and token. */
async function createUpload (uploadsUrl: string, length: number, metadata = ''): Promise<{ url: string, id: string, token: string }> {
  const res = await fetch(uploadsUrl, {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(length), ...(metadata === '' ? {} : { 'Upload-Metadata': metadata }) }
  })
  assert.equal(res.status, 201, await res.text())
  const location = res.headers.get('location')
  const token = res.headers.get('upload-token')
  assert.ok(location !== null && token !== null)
  const url = new URL(location, uploadsUrl).href
  return { url, id: url.slice(url.lastIndexOf('/') + 1), token }
}

/** PATCHes `bytes` at `offset`. */
async function patch (url: string, offset: number, bytes: Buffer): Promise<Response> {
  return await fetch(url, {
    method: 'PATCH',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
    body: new Uint8Array(bytes)
  })
}

/** tus metadata: `key base64(value)` pairs. */
function tusMetadata (entries: Record<string, string>): string {
  return Object.entries(entries).map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`).join(',')
}

/** Calls `method` as JSON and resolves with the envelope and the HTTP status. */
async function call (url: string, method: string, params: unknown[]): Promise<{ status: number, body: any }> {
  const res = await postJson(url, { method, params, id: 1 })
  return { status: res.status, body: res.json() }
}

/** Three distinct random offsets inside `[low, high)`. */
function threeCuts (low: number, high: number): number[] {
  const cuts = new Set<number>()
  while (cuts.size < 3) cuts.add(random.int(low, high - 1))
  return [...cuts]
}

for (const { mode, options } of MODES) {
  describe(`resumable uploads bound to calls (${mode})`, () => {
    let server: RunningServer & { directory: string }
    let uploadsUrl = ''
    before(async () => {
      server = await startUploadServer(options)
      uploadsUrl = `${server.url}/uploads/`
    })
    after(async () => await server.close())

    for (const { label, size } of [{ label: '64 MiB', size: 64 * MiB }, { label: '1 GiB', size: 1024 * MiB }]) {
      test(`tus-js-client uploads ${label} through a proxy that cuts the connection three times; a $upload call reads every byte`, async () => {
        const source = await randomFile(size)
        const proxy = new CuttingProxy(server.port, threeCuts(MiB, size - MiB))
        try {
          const endpoint = `${await proxy.listen()}/rpc/uploads/`
          const upload = await tusUpload(endpoint, source.path, { filename: 'big.bin', filetype: 'application/x-test' })
          assert.equal(proxy.cut, 3, 'the proxy cut three connections')
          assert.ok(upload.retries >= 3, `tus-js-client retried after each cut (${upload.retries} retries)`)
          // The URL form of the placeholder, as tus-js-client reports the upload (the proxy's URL).
          const answer = await call(server.url, 'files.digest', [{ $upload: upload.url, token: upload.token }])
          assert.equal(answer.status, 200, JSON.stringify(answer.body))
          assert.deepEqual(answer.body.result, { size, sha256: source.sha256 })
          // Termination frees the bytes at once: only the token key stays.
          const terminated = await fetch(upload.url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } })
          assert.equal(terminated.status, 204)
          assert.deepEqual(await readdir(server.directory), ['.formcall-upload-secret'])
        } finally {
          await proxy.close()
          await source.remove()
        }
      })
    }

    test('the method gets the upload as a file object with the filename and type of its tus metadata', async () => {
      const content = Buffer.from('hello, resumable world\n')
      const upload = await createUpload(uploadsUrl, content.length, tusMetadata({ filename: 'greeting.txt', filetype: 'text/plain' }))
      assert.equal((await patch(upload.url, 0, content)).status, 204)
      const answer = await call(server.url, 'files.read', [{ $upload: upload.id, token: upload.token }])
      assert.equal(answer.status, 200, JSON.stringify(answer.body))
      assert.deepEqual(answer.body.result, {
        field: `$upload:${upload.id}`, filename: 'greeting.txt', type: 'text/plain', size: content.length, text: content.toString()
      })
    })

    test('an empty upload is finished at its creation and reads as an empty file', async () => {
      const upload = await createUpload(uploadsUrl, 0)
      const answer = await call(server.url, 'files.digest', [{ $upload: upload.id, token: upload.token }])
      assert.deepEqual(answer.body.result, { size: 0, sha256: createHash('sha256').digest('hex') }, JSON.stringify(answer.body))
    })

    test('a multipart call binds a streamed part and an upload side by side', async () => {
      const content = Buffer.from('uploaded earlier')
      const upload = await createUpload(uploadsUrl, content.length, tusMetadata({ filename: 'earlier.txt' }))
      assert.equal((await patch(upload.url, 0, content)).status, 204)
      const boundary = 'formcall-resumable-test'
      const res = await rawRequest(server.url, {
        headers: { 'Content-Type': multipartType(boundary) },
        body: multipartBody(boundary, [
          { name: 'json', content: JSON.stringify({ method: 'files.pair', params: ['both', { $file: 'f0' }, { $upload: upload.id, token: upload.token }], id: 2 }) },
          { name: 'f0', filename: 'now.txt', type: 'text/plain', content: 'streamed now' }
        ])
      })
      assert.equal(res.status, 200, res.text)
      const { result } = res.json()
      assert.equal(result.label, 'both')
      assert.equal(result.first.text, 'streamed now')
      assert.deepEqual(result.second, {
        field: `$upload:${upload.id}`, filename: 'earlier.txt', type: 'application/octet-stream', size: content.length, text: content.toString()
      })
    })

    test('an unknown upload id is answered with UPLOAD_NOT_FOUND', async () => {
      const id = randomBytes(16).toString('hex')
      // The token is checked first: a forged one is refused before any file is looked at, whether the id exists or not.
      const forged = await call(server.url, 'files.digest', [{ $upload: id, token: 'x'.repeat(43) }])
      assert.equal(forged.body.error.code, ErrorCode.UPLOAD_FORBIDDEN)
      const upload = await createUpload(uploadsUrl, 1)
      const res = await fetch(upload.url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0' } })
      assert.equal(res.status, 204)
      const answer = await call(server.url, 'files.digest', [{ $upload: upload.id, token: upload.token }])
      assert.equal(answer.status, 404, JSON.stringify(answer.body))
      assert.equal(answer.body.error.code, ErrorCode.UPLOAD_NOT_FOUND)
      assert.equal(answer.body.error.data.upload, upload.id)
    })

    test('an unfinished upload is answered with UPLOAD_INCOMPLETE, naming its offset and length', async () => {
      const upload = await createUpload(uploadsUrl, 10)
      assert.equal((await patch(upload.url, 0, Buffer.from('1234'))).status, 204)
      const answer = await call(server.url, 'files.digest', [{ $upload: upload.id, token: upload.token }])
      assert.equal(answer.status, 409, JSON.stringify(answer.body))
      assert.equal(answer.body.error.code, ErrorCode.UPLOAD_INCOMPLETE)
      assert.deepEqual(answer.body.error.data, { upload: upload.id, offset: 4, length: 10 })
    })

    test('a missing or wrong token is answered with UPLOAD_FORBIDDEN, and another upload\'s token does not fit', async () => {
      const first = await createUpload(uploadsUrl, 2)
      const second = await createUpload(uploadsUrl, 2)
      for (const upload of [first, second]) assert.equal((await patch(upload.url, 0, Buffer.from('ok'))).status, 204)
      const attempts: unknown[] = [
        { $upload: first.id },
        { $upload: first.id, token: second.token },
        { $upload: first.id, token: first.token.slice(0, -1) },
        { $upload: first.id, token: 42 }
      ]
      for (const placeholder of attempts) {
        const answer = await call(server.url, 'files.digest', [placeholder])
        assert.equal(answer.status, 403, JSON.stringify(answer.body))
        assert.equal(answer.body.error.code, ErrorCode.UPLOAD_FORBIDDEN, JSON.stringify(placeholder))
      }
      const good = await call(server.url, 'files.digest', [{ $upload: first.url, token: first.token }])
      assert.equal(good.body.result.size, 2)
    })

    test('an expired upload is answered with UPLOAD_EXPIRED, and tus answers 410 for it', async () => {
      const upload = await createUpload(uploadsUrl, 2)
      assert.equal((await patch(upload.url, 0, Buffer.from('ok'))).status, 204)
      // Its record says it was made two days ago: past the default expiry of 24 h.
      const recordPath = join(server.directory, `${upload.id}.json`)
      const record = JSON.parse(await readFile(recordPath, 'utf8'))
      record.creation_date = new Date(Date.now() - 48 * 3600_000).toISOString()
      await writeFile(recordPath, JSON.stringify(record))
      const answer = await call(server.url, 'files.digest', [{ $upload: upload.id, token: upload.token }])
      assert.equal(answer.status, 410, JSON.stringify(answer.body))
      assert.equal(answer.body.error.code, ErrorCode.UPLOAD_EXPIRED)
      const head = await fetch(upload.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
      assert.equal(head.status, 410)
    })

    test('one upload bound twice in a call is refused before the method starts', async () => {
      const upload = await createUpload(uploadsUrl, 2)
      assert.equal((await patch(upload.url, 0, Buffer.from('ok'))).status, 204)
      const placeholder = { $upload: upload.id, token: upload.token }
      const answer = await call(server.url, 'files.pair', ['twice', placeholder, placeholder])
      assert.equal(answer.body.error.code, ErrorCode.INVALID_PARAMS, JSON.stringify(answer.body))
    })

    test('an object with $upload and other keys is plain data, not a placeholder', async () => {
      const value = { $upload: 'abc', token: 't', note: 'just data' }
      const answer = await call(server.url, 'echo', [value])
      assert.deepEqual(answer.body.result, value)
    })
  })
}

describe('the tus endpoint', () => {
  let server: RunningServer & { directory: string }
  let uploadsUrl = ''
  before(async () => {
    server = await startUploadServer({ methods: vectorMethods, allowedOrigins: ['http://app.example'] }, { maxSize: 1000 })
    uploadsUrl = `${server.url}/uploads/`
  })
  after(async () => await server.close())

  test('OPTIONS tells the tus version, the extensions and the largest upload', async () => {
    const res = await fetch(uploadsUrl, { method: 'OPTIONS' })
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('tus-version'), '1.0.0')
    const extensions = (res.headers.get('tus-extension') ?? '').split(',')
    for (const name of ['creation', 'creation-with-upload', 'termination', 'expiration']) assert.ok(extensions.includes(name), name)
    assert.equal(res.headers.get('tus-max-size'), '1000')
  })

  test('creation with upload stores the first bytes in the POST; the token and an expiry come with it', async () => {
    const res = await fetch(uploadsUrl, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '6', 'Content-Type': 'application/offset+octet-stream' },
      body: new Uint8Array(Buffer.from('abc'))
    })
    assert.equal(res.status, 201)
    assert.equal(res.headers.get('upload-offset'), '3')
    assert.ok(res.headers.get('upload-expires') !== null)
    assert.match(res.headers.get('upload-token') ?? '', /^[A-Za-z0-9_-]{43}$/)
    const url = new URL(res.headers.get('location') as string, uploadsUrl).href
    assert.ok(url.startsWith(`${server.url}/uploads/`), url)
    assert.equal((await patch(url, 3, Buffer.from('def'))).status, 204)
    const answer = await call(server.url, 'files.read', [{ $upload: url, token: res.headers.get('upload-token') }])
    assert.equal(answer.body.result.text, 'abcdef')
  })

  test('a PATCH at the wrong offset is answered 409 and changes nothing', async () => {
    const upload = await createUpload(uploadsUrl, 10)
    assert.equal((await patch(upload.url, 5, Buffer.from('12345'))).status, 409)
    const head = await fetch(upload.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
    assert.equal(head.headers.get('upload-offset'), '0')
  })

  test('a PATCH past the declared length is answered 413 and stores nothing of it', async () => {
    const upload = await createUpload(uploadsUrl, 4)
    assert.equal((await patch(upload.url, 0, Buffer.from('123456789'))).status, 413)
    const head = await fetch(upload.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
    assert.equal(head.headers.get('upload-offset'), '0')
  })

  test('an upload larger than maxSize is refused with 413 at creation', async () => {
    const res = await fetch(uploadsUrl, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1001' } })
    assert.equal(res.status, 413)
    assert.equal(res.headers.get('upload-token'), null)
  })

  test('a browser request from another origin is refused with ORIGIN_NOT_ALLOWED, its preflight too', async () => {
    const res = await rawRequest(uploadsUrl, {
      headers: { Origin: 'http://evil.example', 'Tus-Resumable': '1.0.0', 'Upload-Length': '1' }
    })
    assert.equal(res.status, 403, res.text)
    assert.equal(res.json().error.code, ErrorCode.ORIGIN_NOT_ALLOWED)
    assert.equal(res.headers['access-control-allow-origin'], undefined)
    const preflight = await rawRequest(uploadsUrl, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' }
    })
    assert.equal(preflight.status, 403)
    assert.equal(preflight.headers['access-control-allow-origin'], undefined)
  })

  test('an allowed origin gets the CORS headers a tus client needs, Upload-Token exposed', async () => {
    const preflight = await rawRequest(uploadsUrl, {
      method: 'OPTIONS',
      headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'tus-resumable, upload-length' }
    })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers['access-control-allow-origin'], 'http://app.example')
    assert.match(preflight.headers['access-control-allow-methods'] ?? '', /PATCH/)
    assert.match(preflight.headers['access-control-allow-headers'] ?? '', /Upload-Offset/)
    const res = await rawRequest(uploadsUrl, { headers: { Origin: 'http://app.example', 'Tus-Resumable': '1.0.0', 'Upload-Length': '1' } })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.headers['access-control-allow-origin'], 'http://app.example')
    const exposed = (res.headers['access-control-expose-headers'] ?? '').split(/\s*,\s*/)
    for (const name of ['Upload-Token', 'Upload-Offset', 'Location', 'Tus-Resumable', 'Upload-Length', 'Upload-Metadata']) {
      assert.ok(exposed.includes(name), `${name} is exposed (${exposed.join(', ')})`)
    }
  })

  test('an upload directory open to other users stops the start', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
    try {
      await chmod(directory, 0o755)
      await assert.rejects(startServer({ methods: vectorMethods, uploads: { directory } }), /is open to other users/)
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})

describe('a tus request that stalls', () => {
  test('is cut after the idle-upload window; the bytes that arrived are kept, and the upload resumes from them', async () => {
    const server = await startUploadServer({ methods: vectorMethods, idleUploadTimeout: 200, minUploadRate: 0 })
    try {
      const upload = await createUpload(`${server.url}/uploads/`, 10)
      const open = await openRequest(upload.url, {
        method: 'PATCH',
        target: new URL(upload.url).pathname,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': '10', Connection: 'keep-alive' }
      })
      await open.write('abc')
      // Nothing more is sent: the server cuts the connection without an answer.
      await assert.rejects(open.response)
      await waitFor(async () => {
        const head = await fetch(upload.url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
        return head.headers.get('upload-offset') === '3'
      }, 'the three bytes that arrived to be the upload\'s offset')
      assert.equal((await patch(upload.url, 3, Buffer.from('defghij'))).status, 204)
      const answer = await call(server.url, 'files.read', [{ $upload: upload.id, token: upload.token }])
      assert.equal(answer.body.result?.text, 'abcdefghij', JSON.stringify(answer.body))
    } finally {
      await server.close()
    }
  })
})

describe('closing a server with an upload in progress', () => {
  test('cuts it at once instead of waiting for its end; what arrived stays for the client to resume', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
    const uploads = { directory, secret: 'the secret every instance is given, 32+ chars' }
    try {
      // No idle-upload timeout: nothing but the close itself can end the PATCH below.
      const first = await startServer({ methods: vectorMethods, uploads, idleUploadTimeout: 0 })
      const upload = await createUpload(`${first.url}/uploads/`, 10)
      const open = await openRequest(upload.url, {
        method: 'PATCH',
        target: new URL(upload.url).pathname,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': '10' }
      })
      open.response.catch(() => {})
      await open.write('abcd')
      await waitFor(async () => (await readFile(join(directory, upload.id))).length === 4, 'the first bytes to be stored')
      await first.close()
      await assert.rejects(open.response)
      const second = await startServer({ methods: vectorMethods, uploads })
      try {
        const at = new URL(new URL(upload.url).pathname, second.origin).href
        assert.equal((await patch(at, 4, Buffer.from('efghij'))).status, 204)
        const answer = await call(second.url, 'files.read', [{ $upload: upload.id, token: upload.token }])
        assert.equal(answer.body.result?.text, 'abcdefghij', JSON.stringify(answer.body))
      } finally {
        await second.close()
      }
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})

describe('expiry and deletion of uploads', () => {
  test('with deleteAfterCall, a successful call deletes the upload it bound; a failed one keeps it', async () => {
    const server = await startUploadServer({ methods: vectorMethods }, { deleteAfterCall: true })
    try {
      const uploadsUrl = `${server.url}/uploads/`
      const upload = await createUpload(uploadsUrl, 2)
      assert.equal((await patch(upload.url, 0, Buffer.from('ok'))).status, 204)
      const failed = await call(server.url, 'fail.plain', [{ $upload: upload.id, token: upload.token }])
      assert.equal(failed.body.error.code, ErrorCode.METHOD_RAISED)
      assert.ok((await readdir(server.directory)).includes(upload.id), 'a failed call keeps the upload')
      const answer = await call(server.url, 'files.digest', [{ $upload: upload.id, token: upload.token }])
      assert.equal(answer.body.result.size, 2)
      assert.deepEqual((await readdir(server.directory)).filter((name) => name.startsWith(upload.id)), [])
      const again = await call(server.url, 'files.digest', [{ $upload: upload.id, token: upload.token }])
      assert.equal(again.body.error.code, ErrorCode.UPLOAD_NOT_FOUND)
    } finally {
      await server.close()
    }
  })

  test('expired uploads and their bytes are deleted by the periodic sweep, finished or not; other files stay', async () => {
    const server = await startUploadServer({ methods: vectorMethods }, { cleanupInterval: 50 })
    try {
      const uploadsUrl = `${server.url}/uploads/`
      const finished = await createUpload(uploadsUrl, 2)
      assert.equal((await patch(finished.url, 0, Buffer.from('ok'))).status, 204)
      const unfinished = await createUpload(uploadsUrl, 10)
      const young = await createUpload(uploadsUrl, 10)
      await writeFile(join(server.directory, 'notes.txt'), 'not an upload')
      for (const upload of [finished, unfinished]) {
        const recordPath = join(server.directory, `${upload.id}.json`)
        const record = JSON.parse(await readFile(recordPath, 'utf8'))
        record.creation_date = new Date(Date.now() - 48 * 3600_000).toISOString()
        await writeFile(recordPath, JSON.stringify(record))
      }
      await waitFor(async () => {
        const names = await readdir(server.directory)
        return !names.some((name) => name.startsWith(finished.id) || name.startsWith(unfinished.id))
      }, 'the sweep to delete both expired uploads')
      const names = await readdir(server.directory)
      assert.ok(names.includes(young.id) && names.includes(`${young.id}.json`) && names.includes('notes.txt'), names.join(', '))
    } finally {
      await server.close()
    }
  })

  test('a server starting on a directory deletes what expired while it was down; the rest resumes and binds under the shared secret', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
    const uploads = { directory, secret: 'a shared secret of at least 32 characters' }
    try {
      const first = await startServer({ methods: vectorMethods, uploads })
      const stale = await createUpload(`${first.url}/uploads/`, 4)
      const live = await createUpload(`${first.url}/uploads/`, 4)
      assert.equal((await patch(live.url, 0, Buffer.from('ha'))).status, 204)
      const recordPath = join(directory, `${stale.id}.json`)
      const record = JSON.parse(await readFile(recordPath, 'utf8'))
      record.creation_date = new Date(Date.now() - 48 * 3600_000).toISOString()
      await writeFile(recordPath, JSON.stringify(record))
      await first.close()

      const second = await startServer({ methods: vectorMethods, uploads })
      try {
        const names = await readdir(directory)
        assert.ok(!names.some((name) => name.startsWith(stale.id)), names.join(', '))
        const resumed = new URL(new URL(live.url).pathname, second.origin).href
        assert.equal((await patch(resumed, 2, Buffer.from('ha'))).status, 204)
        const answer = await call(second.url, 'files.read', [{ $upload: live.id, token: live.token }])
        assert.equal(answer.body.result?.text, 'haha', JSON.stringify(answer.body))
      } finally {
        await second.close()
      }
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})

describe('two instances sharing the upload directory and the secret', () => {
  test('an upload started on one is resumed on the other, and a call on either binds it', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
    const uploads = { directory, secret: 'the secret every instance is given, 32+ chars' }
    const one = await startServer({ methods: vectorMethods, uploads })
    const two = await startServer({ methods: vectorMethods, isolation: 'worker', methodsModule: fileURLToPath(new URL('./support/vector-methods.ts', import.meta.url)), workers: 1, uploads })
    try {
      const content = randomBytes(256 * 1024)
      const upload = await createUpload(`${one.url}/uploads/`, content.length)
      assert.equal((await patch(upload.url, 0, content.subarray(0, 1000))).status, 204)
      const onTwo = new URL(new URL(upload.url).pathname, two.origin).href
      const head = await fetch(onTwo, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
      assert.equal(head.headers.get('upload-offset'), '1000')
      assert.equal((await patch(onTwo, 1000, content.subarray(1000))).status, 204)
      const expected = { size: content.length, sha256: createHash('sha256').update(content).digest('hex') }
      for (const server of [one, two]) {
        const answer = await call(server.url, 'files.digest', [{ $upload: upload.url, token: upload.token }])
        assert.deepEqual(answer.body.result, expected, JSON.stringify(answer.body))
      }
    } finally {
      await one.close()
      await two.close()
      await rm(directory, { recursive: true, force: true })
    }
  })
})

describe('who may upload, and how much the store holds', () => {
  test('the beforeUpload hook sees every request but OPTIONS and refuses with its error, before any byte is stored', async () => {
    const seen: string[] = []
    const server = await startUploadServer({ methods: vectorMethods }, {
      beforeUpload: ({ method, uploadId, headers }: UploadRequestInfo) => {
        seen.push(`${method} ${uploadId ?? '-'}`)
        if (headers.authorization !== 'Bearer let-me') throw new RpcError(ErrorCode.UNAUTHORIZED, 'send the bearer token')
      }
    })
    try {
      const refused = await fetch(`${server.url}/uploads/`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '4' } })
      assert.equal(refused.status, 401)
      const body = await refused.json() as { error: { code: number, message: string } }
      assert.equal(body.error.code, ErrorCode.UNAUTHORIZED)
      assert.deepEqual((await readdir(server.directory)).filter((name) => !name.startsWith('.')), [])

      const auth = { authorization: 'Bearer let-me', 'Tus-Resumable': '1.0.0' }
      const created = await fetch(`${server.url}/uploads/`, { method: 'POST', headers: { ...auth, 'Upload-Length': '4' } })
      assert.equal(created.status, 201)
      const url = new URL(created.headers.get('location') ?? '', `${server.url}/uploads/`).href
      const id = url.slice(url.lastIndexOf('/') + 1)
      const patchWithout = await fetch(url, { method: 'PATCH', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, body: 'haha' })
      assert.equal(patchWithout.status, 401)
      const head = await fetch(url, { method: 'HEAD', headers: auth })
      assert.equal(head.headers.get('upload-offset'), '0', 'the refused PATCH stored nothing')
      const preflight = await fetch(`${server.url}/uploads/`, { method: 'OPTIONS' })
      assert.equal(preflight.status, 204)
      assert.deepEqual(seen, ['POST -', 'POST -', `PATCH ${id}`, `HEAD ${id}`])
    } finally {
      await server.close()
    }
  })

  test('creations past maxUploads, or that would leave less than minFreeSpace, get 503 with Retry-After; the rest go on', async () => {
    const server = await startUploadServer({ methods: vectorMethods }, { maxUploads: 2, maxSize: 2 ** 52 })
    try {
      const create = async (length: number): Promise<Response> =>
        await fetch(`${server.url}/uploads/`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(length) } })
      // Larger than any disk this runs on: refused before anything is stored.
      const huge = await create(2 ** 51)
      assert.equal(huge.status, 503)
      assert.equal(huge.headers.get('retry-after'), '1')
      assert.equal((await huge.json() as { error: { data: { limit: string } } }).error.data.limit, 'minFreeSpace')
      assert.equal((await create(4)).status, 201)
      assert.equal((await create(4)).status, 201)
      const third = await create(4)
      assert.equal(third.status, 503)
      assert.equal((await third.json() as { error: { code: number, data: { limit: string } } }).error.data.limit, 'maxUploads')
    } finally {
      await server.close()
    }
  })
})

describe('the token key when no secret is given', () => {
  test('is made once in the upload directory (0600): a restarted server and a second instance bind the same upload', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
    const uploads = { directory }
    let one = await startServer({ methods: vectorMethods, uploads })
    const content = randomBytes(64 * 1024)
    const expected = { size: content.length, sha256: createHash('sha256').update(content).digest('hex') }
    try {
      const upload = await createUpload(`${one.url}/uploads/`, content.length)
      assert.equal((await patch(upload.url, 0, content)).status, 204)
      const key = await stat(join(directory, '.formcall-upload-secret'))
      assert.equal(key.mode & 0o777, 0o600)
      assert.equal(key.size, 32)
      await one.close()
      one = await startServer({ methods: vectorMethods, uploads })
      const two = await startServer({ methods: vectorMethods, uploads })
      try {
        for (const server of [one, two]) {
          const answer = await call(server.url, 'files.digest', [{ $upload: upload.id, token: upload.token }])
          assert.deepEqual(answer.body.result, expected, JSON.stringify(answer.body))
        }
      } finally {
        await two.close()
      }
      // The uploads' own files are all the store holds besides the key: the sweep leaves it alone.
      assert.deepEqual((await readdir(directory)).filter((name) => name.startsWith('.')), ['.formcall-upload-secret'])
    } finally {
      await one.close()
      await rm(directory, { recursive: true, force: true })
    }
  })

  test('a key file other users can read stops the start, saying what to do', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
    try {
      await writeFile(join(directory, '.formcall-upload-secret'), randomBytes(32), { mode: 0o644 })
      await chmod(join(directory, '.formcall-upload-secret'), 0o644)
      await assert.rejects(startServer({ methods: vectorMethods, uploads: { directory } }),
        /\.formcall-upload-secret is readable by other users \(mode 0644\); remove it/)
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})

describe('a server without uploads', () => {
  let server: RunningServer
  before(async () => { server = await startServer({ methods: vectorMethods }) })
  after(async () => await server.close())

  test('answers the uploads path with 404, and a call that binds an upload with -32016, never passing it as data', async () => {
    for (const method of ['POST', 'OPTIONS', 'PATCH', 'HEAD']) {
      const res = await fetch(`${server.url}/uploads/${method === 'POST' ? '' : 'abc'}`, {
        method,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': '1' }
      })
      assert.equal(res.status, 404, method)
    }
    const answer = await call(server.url, 'echo', [{ $upload: 'abc', token: 't' }])
    assert.equal(answer.body.error?.code, ErrorCode.UPLOAD_NOT_FOUND, JSON.stringify(answer.body))
    assert.match(answer.body.error?.message ?? '', /takes no resumable uploads/)
  })
})

describe('formcall serve --uploads', () => {
  const methodsModule = fileURLToPath(new URL('./support/vector-methods.ts', import.meta.url))

  test('serves the tus endpoint beside the calls, into the given directory, with the secret from the environment', async () => {
    const directory = join(await mkdtemp(join(tmpdir(), 'formcall-test-cli-')), 'uploads')
    const child = startChild(process.execPath, [...CLI_FROM_SOURCE, 'serve', methodsModule, '--port', '0', '--isolation', 'inline', '--uploads', directory],
      { env: { ...process.env, FORMCALL_UPLOAD_SECRET: 'a secret of thirty-two characters!' } })
    try {
      const [, url] = await child.line(/formcall listening on (http:\/\/\S+)/)
      assert.match(child.output(), /resumable uploads at \/rpc\/uploads\//)
      const upload = await createUpload(`${url as string}/uploads/`, 3, tusMetadata({ filename: 'cli.txt' }))
      assert.equal((await patch(upload.url, 0, Buffer.from('cli'))).status, 204)
      assert.ok((await readdir(directory)).includes(upload.id), 'the bytes are in the --uploads directory')
      const answer = await call(url as string, 'files.read', [{ $upload: upload.id, token: upload.token }])
      assert.equal(answer.body.result?.filename, 'cli.txt', JSON.stringify(answer.body))
      assert.equal(answer.body.result.text, 'cli')
    } finally {
      await child.stop()
      await rm(join(directory, '..'), { recursive: true, force: true })
    }
  })

  test('a server killed mid-upload loses nothing it stored: restarted on the directory, the upload resumes and binds with its digest', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'formcall-test-cli-'))
    const directory = join(parent, 'uploads')
    const env = { ...process.env, FORMCALL_UPLOAD_SECRET: 'a secret of thirty-two characters!' }
    const args = [...CLI_FROM_SOURCE, 'serve', methodsModule, '--port', '0', '--isolation', 'inline', '--uploads', directory]
    const content = randomBytes(4 * MiB)
    let second: ReturnType<typeof startChild> | undefined
    try {
      const first = startChild(process.execPath, args, { env })
      const [, firstUrl] = await first.line(/formcall listening on (http:\/\/\S+)/)
      const upload = await createUpload(`${firstUrl as string}/uploads/`, content.length)
      const open = await openRequest(upload.url, {
        method: 'PATCH',
        target: new URL(upload.url).pathname,
        headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(content.length) }
      })
      open.response.catch(() => {})
      await open.write(content.subarray(0, content.length / 2))
      await waitFor(async () => (await readFile(join(directory, upload.id))).length > 0, 'some of the bytes to reach the disk')
      first.process.kill('SIGKILL')
      await first.exited
      open.destroy()

      second = startChild(process.execPath, args, { env })
      const [, url] = await second.line(/formcall listening on (http:\/\/\S+)/)
      const at = new URL(new URL(upload.url).pathname, url as string).href
      const head = await fetch(at, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } })
      assert.equal(head.status, 200)
      const offset = Number(head.headers.get('upload-offset'))
      assert.ok(offset > 0 && offset <= content.length / 2, `resumes from what was stored (${offset})`)
      const early = await call(url as string, 'files.digest', [{ $upload: upload.id, token: upload.token }])
      assert.equal(early.body.error?.code, ErrorCode.UPLOAD_INCOMPLETE, JSON.stringify(early.body))
      assert.equal((await patch(at, offset, content.subarray(offset))).status, 204)
      const answer = await call(url as string, 'files.digest', [{ $upload: upload.id, token: upload.token }])
      assert.deepEqual(answer.body.result, { size: content.length, sha256: createHash('sha256').update(content).digest('hex') })
    } finally {
      await second?.stop()
      await rm(parent, { recursive: true, force: true })
    }
  })

  test('an upload flag without --uploads exits 2 saying so', async () => {
    const child = startChild(process.execPath, [...CLI_FROM_SOURCE, 'serve', methodsModule, '--upload-max-size', '10'])
    assert.equal(await child.exited, 2)
    assert.match(child.output(), /--upload-max-size needs --uploads <dir>/)
  })
})
