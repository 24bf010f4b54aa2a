import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { useBrowserSuite } from './support/browser-suite.js'

const suite = useBrowserSuite()
const FIFTY_MB = 50 * 1024 * 1024

test('several files, one a 50 MB Blob made in the page, arrive as parts f0, f1 whose SHA-256 match the page\'s', async () => {
  const page = await suite.openPage()
  const { described, bigSha256 } = await page.evaluate(async ({ rpcUrl, size }) => {
    const bytes = new Uint8Array(size)
    // getRandomValues fills at most 64 KiB per call.
    for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536))
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
    const note = new File(['hello, formcall'], 'note.txt', { type: 'text/plain' })

    const api = window.formcall.createClient(rpcUrl)
    return {
      described: await api.files.describe('album', { cover: note, pages: [new Blob([bytes])] }),
      bigSha256: Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')
    }
  }, { rpcUrl: suite.rpcUrl, size: FIFTY_MB })

  assert.deepEqual(described, ['album', {
    cover: { filename: 'note.txt', type: 'text/plain', size: 15, sha256: sha256('hello, formcall') },
    pages: [{ filename: 'blob', type: 'application/octet-stream', size: FIFTY_MB, sha256: bigSha256 }]
  }])
  const request = suite.rpc.received.at(-1)
  assert.match(request?.contentType ?? '', /^multipart\/form-data; boundary=/)
  assert.deepEqual(request?.parts.map((part) => [part.name, part.filename]), [['json', undefined], ['f0', 'note.txt'], ['f1', 'blob']])
  assert.deepEqual(request?.call, {
    jsonrpc: '2.0',
    id: 1,
    method: 'files.describe',
    params: ['album', { cover: { $file: 'f0' }, pages: [{ $file: 'f1' }] }]
  })
})

test('a FileList argument is sent as one part per file and arrives as an array of files', async () => {
  const page = await suite.openPage()
  const described = await page.evaluate(async (rpcUrl) => {
    // DataTransfer is how a page builds a real FileList (the kind an <input type=file multiple> holds).
    const transfer = new DataTransfer()
    transfer.items.add(new File(['one'], 'one.txt', { type: 'text/plain' }))
    transfer.items.add(new File(['two!'], 'two.csv', { type: 'text/csv' }))
    return await window.formcall.createClient(rpcUrl).files.describe({ attachments: transfer.files })
  }, suite.rpcUrl)

  assert.deepEqual(described, [{
    attachments: [
      { filename: 'one.txt', type: 'text/plain', size: 3, sha256: sha256('one') },
      { filename: 'two.csv', type: 'text/csv', size: 4, sha256: sha256('two!') }
    ]
  }])
  assert.deepEqual(suite.rpc.received.at(-1)?.call.params, [{ attachments: [{ $file: 'f0' }, { $file: 'f1' }] }])
})

test('a content-type header in the options cannot replace the multipart content type and its boundary', async () => {
  const page = await suite.openPage()
  const described = await page.evaluate(async (rpcUrl) => {
    const api = window.formcall.createClient(rpcUrl, { headers: { 'Content-Type': 'text/plain' } })
    return await api.files.describe(new File(['x'], 'x.txt', { type: 'text/plain' }))
  }, suite.rpcUrl)

  assert.deepEqual(described, [{ filename: 'x.txt', type: 'text/plain', size: 1, sha256: sha256('x') }])
  assert.match(suite.rpc.received.at(-1)?.contentType ?? '', /^multipart\/form-data; boundary=/)
})

test('upload progress events rise steadily and the last one has loaded equal to total', async () => {
  const page = await suite.openPage()
  const events = await page.evaluate(async ({ rpcUrl, size }) => {
    const progress: { loaded: number; total: number }[] = []
    const api = window.formcall.createClient(rpcUrl, { onUploadProgress: (event) => { progress.push(event) } })
    await api.files.describe(new Blob([new Uint8Array(size)]))
    return progress
  }, { rpcUrl: suite.rpcUrl, size: FIFTY_MB })

  assert.ok(events.length > 0, 'at least one progress event')
  const last = events.at(-1) as { loaded: number; total: number }
  assert.equal(last.loaded, last.total)
  assert.ok(last.total > FIFTY_MB, 'total counts the whole multipart body, framing and the json part included')
  for (const [index, event] of events.entries()) {
    assert.equal(event.total, last.total, `event ${index} has the same total`)
    assert.ok(event.loaded >= (events[index - 1]?.loaded ?? 0), `event ${index} did not go backwards`)
  }
})

test('aborting the signal mid-upload cancels the request and rejects with an aborted TransportError', async () => {
  const page = await suite.openPage()
  // The stand-in stops reading a `hold` call's body once it has its json part, so the 50 MB upload is stuck
  // part-way for as long as the test wants: the page aborts only once the server has the call.
  const held = suite.rpc.nextCall('hold')
  await page.exposeFunction('serverHasTheCall', async () => { await held })

  const outcome = await page.evaluate(async ({ rpcUrl, size }) => {
    const { createClient, TransportError } = window.formcall
    const controller = new AbortController()
    let lastProgress = { loaded: 0, total: 0 }
    const call = createClient(rpcUrl)
      .$with({ signal: controller.signal, onUploadProgress: (event) => { lastProgress = event } })
      .hold(new Blob([new Uint8Array(size)]))
    await (window as unknown as { serverHasTheCall: () => Promise<void> }).serverHasTheCall()
    controller.abort('user cancelled')
    try {
      await call
    } catch (err) {
      if (!(err instanceof TransportError)) throw err
      return { kind: err.kind, cause: err.cause, lastProgress }
    }
    throw new Error('the call resolved')
  }, { rpcUrl: suite.rpcUrl, size: FIFTY_MB })

  assert.equal(outcome.kind, 'aborted')
  assert.equal(outcome.cause, 'user cancelled')
  assert.ok(outcome.lastProgress.loaded < FIFTY_MB, 'the upload had not finished when it was aborted')
  const request = await held
  request.release()
  assert.deepEqual(await request.closed, { complete: false }, 'the server saw the body cut short')
})

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
