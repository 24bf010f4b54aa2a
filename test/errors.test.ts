import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ErrorCode, RpcError } from '@formcall/server'
import { multipartBody, multipartType } from './support/multipart.js'
import { openRequest, postJson, rawRequest, type RawResponse } from './support/raw-http.js'
import { startServer, type RunningServer } from './support/start-server.js'
import { FILE_HEADER_SERVERS } from './support/file-header-servers.js'

const methods = {
  echo: (value: unknown) => value,
  crash: () => { throw new TypeError('cannot read properties of undefined (reading "id")') },
  refuse: () => { throw new RpcError(ErrorCode.FORBIDDEN, 'only admins may do this', { role: 'guest' }) }
}
const beforeCall = ({ hookParams }: { hookParams: unknown }): void => {
  if ((hookParams as { explode?: boolean } | undefined)?.explode === true) throw new Error('hook crashed on the session store')
}

describe('exposeErrors', () => {
  let quiet: RunningServer
  let verbose: RunningServer
  before(async () => {
    quiet = await startServer({ methods, beforeCall })
    verbose = await startServer({ methods, beforeCall, exposeErrors: true })
  })
  after(async () => {
    await quiet.close()
    await verbose.close()
  })

  it('off (the default): a method\'s exception is METHOD_RAISED with its message and no stack anywhere in the body', async () => {
    const res = await postJson(quiet.url, { method: 'crash', id: 1 })
    assert.equal(res.status, 500)
    assert.deepEqual(res.json(), {
      jsonrpc: '2.0',
      id: 1,
      error: { code: ErrorCode.METHOD_RAISED, message: 'cannot read properties of undefined (reading "id")' }
    })
    assert.ok(!res.text.includes('stack') && !res.text.includes('.ts:'), res.text)
  })

  it('on: a method\'s exception carries data.stack with the exception\'s frames', async () => {
    const res = await postJson(verbose.url, { method: 'crash' })
    assert.equal(res.status, 500)
    const error = res.json().error
    assert.equal(error.code, ErrorCode.METHOD_RAISED)
    assert.equal(typeof error.data.stack, 'string')
    assert.ok(error.data.stack.includes('cannot read properties of undefined'), error.data.stack)
    assert.ok(error.data.stack.includes('errors.test.ts'), 'the stack names the method\'s source')
  })

  it('off: an exception outside the method (in the hook) is UNHANDLED and says nothing about it', async () => {
    const res = await postJson(quiet.url, { method: 'echo', params: [1], pmhparams: { explode: true } })
    // A krpc call (it has pmhparams): the error is in a 200 envelope (PROTOCOL.md section 8.1).
    assert.equal(res.status, 200)
    assert.equal(res.json().error.code, ErrorCode.UNHANDLED)
    assert.equal(res.json().error.data, undefined)
    assert.ok(!res.text.includes('session store'), res.text)
  })

  it('on: an exception outside the method carries its message and stack', async () => {
    const res = await postJson(verbose.url, { method: 'echo', params: [1], pmhparams: { explode: true } })
    assert.equal(res.json().error.code, ErrorCode.UNHANDLED)
    assert.ok(res.json().error.message.includes('session store'))
    assert.equal(typeof res.json().error.data.stack, 'string')
  })

  it('an RpcError a method throws is sent as thrown, without a stack, even when errors are exposed', async () => {
    for (const server of [quiet, verbose]) {
      const res = await postJson(server.url, { method: 'refuse' })
      assert.equal(res.status, 403)
      assert.deepEqual(res.json().error, { code: ErrorCode.FORBIDDEN, message: 'only admins may do this', data: { role: 'guest' } })
    }
  })
})

describe('the server keeps serving after bad requests', () => {
  let server: RunningServer
  before(async () => { server = await startServer({ methods }) })
  after(async () => await server.close())

  const B = 'keeps-serving'
  const badRequests: Array<[string, () => Promise<RawResponse | undefined>, number | undefined]> = [
    ['a body that is not JSON', async () => await rawRequest(server.url, { headers: { 'Content-Type': 'application/json' }, body: '{{{' }), 400],
    ['an unknown method', async () => await postJson(server.url, { method: 'constructor' }), 404],
    ['a multipart body cut short', async () => await rawRequest(server.url, {
      headers: { 'Content-Type': multipartType(B) },
      body: multipartBody(B, [{ name: 'json', content: '{"method":"echo","params":[1]}' }, { name: 'f', filename: 'f', content: 'partial' }], { close: false })
    }), 400],
    ['a multipart body whose first part is a file', async () => await rawRequest(server.url, {
      headers: { 'Content-Type': multipartType(B) }, body: multipartBody(B, [{ name: 'f', filename: 'f', content: 'x' }])
    }), 400],
    ['an unsupported content type', async () => await rawRequest(server.url, { headers: { 'Content-Type': 'text/csv' }, body: 'a,b' }), 415],
    ['a PUT', async () => await rawRequest(server.url, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 405],
    ['a cross-origin call', async () => await postJson(server.url, { method: 'echo' }, { Origin: 'https://elsewhere.example' }), 403],
    ['headers larger than Node accepts', async () => await postJson(server.url, { method: 'echo', params: [1] }, { 'X-Big': 'x'.repeat(64 * 1024) }), 431],
    ['a request line that is not HTTP', async () => {
      const req = await openRequest(server.url, { method: 'NOT HTTP AT ALL', target: '' })
      return await req.response
    }, 400],
    ['a connection closed in the middle of the headers', async () => {
      const req = await openRequest(server.url, { headers: { 'Content-Type': 'application/json', 'Content-Length': '1000' } })
      req.destroy()
      await req.response.catch(() => {})
      return undefined
    }, undefined],
    ['a chunked body with a broken chunk', async () => await rawRequest(server.url, {
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, body: 'zz\r\n{}\r\n0\r\n\r\n'
    }), 400]
  ]

  for (const [what, send, status] of badRequests) {
    it(`after ${what}, the next call is answered`, async () => {
      const res = await send()
      if (status !== undefined) assert.equal(res?.status, status, res?.text)
      const next = await postJson(server.url, { method: 'echo', params: [what] })
      assert.equal(next.status, 200)
      assert.equal(next.json().result, what)
      assert.deepEqual(await server.tmpFiles(), [])
    })
  }
})

describe('a notification is answered 204 without a body when a call would be answered, JSON and multipart alike', () => {
  const B = 'notifications'
  const DELAY = 300
  const modes = FILE_HEADER_SERVERS
  const notification = (method: string, params: unknown[]): string => JSON.stringify({ jsonrpc: '2.0', method, params })

  for (const { mode, start } of modes) {
    describe(mode, () => {
      let server: RunningServer
      before(async () => { server = await start() })
      after(async () => await server.close())

      const sends: Array<[string, () => Promise<RawResponse>]> = [
        ['JSON', async () => await rawRequest(server.url, {
          headers: { 'Content-Type': 'application/json' }, body: notification('slowFailure', [DELAY])
        })],
        ['multipart', async () => await rawRequest(server.url, {
          headers: { 'Content-Type': multipartType(B) },
          body: multipartBody(B, [{ name: 'json', content: notification('slowFailure', [DELAY]) }])
        })]
      ]
      for (const [encoding, send] of sends) {
        it(`${encoding}: the 204 comes once the method has finished, and says nothing of its failure`, async () => {
          const started = Date.now()
          const res = await send()
          assert.equal(res.status, 204)
          assert.equal(res.text, '')
          assert.ok(Date.now() - started >= DELAY - 20, `answered after ${Date.now() - started} ms, before the method finished`)
        })
      }

      it('multipart: the 204 of a method that finished at once waits for the rest of the body', async () => {
        const first = multipartBody(B, [
          { name: 'json', content: notification('quick', [{ $file: 'f' }]) },
          { name: 'f', filename: 'f.bin', content: 'the first half, ' }
        ], { close: false })
        const rest = Buffer.from(`the second half\r\n--${B}--\r\n`)
        // The file part runs on into `rest`: `first` ends inside it (multipartBody's closing CRLF is part of it).
        const request = await openRequest(server.url, {
          headers: { 'Content-Type': multipartType(B), 'Content-Length': String(first.length + rest.length) }
        })
        await request.write(first)
        let answered = false
        void request.response.then(() => { answered = true })
        await new Promise((resolve) => setTimeout(resolve, DELAY))
        assert.equal(answered, false, 'answered before the body was read')
        await request.write(rest)
        const res = await request.response
        assert.equal(res.status, 204)
        assert.equal(res.text, '')
      })
    })
  }
})
