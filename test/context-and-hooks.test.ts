import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { callContext, ErrorCode, RpcError, type BeforeCallInfo, type UploadedFile } from '@formcall/server'
import { randomContent } from './support/bytes.js'
import { multipartBody, multipartType, partHead } from './support/multipart.js'
import { Probe } from './support/probe.js'
import { openRequest, postJson, rawRequest } from './support/raw-http.js'
import { startServer, type RunningServer } from './support/start-server.js'

const BOUNDARY = 'formcall-context-test'

describe('the call context and the before-call hook', () => {
  let server: RunningServer
  let probe = new Probe()
  const hookCalls: Array<Omit<BeforeCallInfo, 'context'> & { contextMethod: string, authorization: unknown }> = []
  let guardedRuns = 0

  const methods = {
    echo: (value: unknown) => value,
    context: () => {
      const context = callContext()
      return {
      method: context.method,
      id: context.id,
      trace: context.headers['x-trace'],
      remoteAddress: context.remoteAddress,
      signal: context.signal instanceof AbortSignal ? { aborted: context.signal.aborted } : 'not an AbortSignal',
      log: (['info', 'warn', 'error', 'debug'] as const).every((level) => typeof context.log[level] === 'function')
      }
    },
    /** Answers with exactly what arrived in its parameter slots. */
    slots (a?: unknown, b?: unknown) { return { a: a ?? 'empty', b: b ?? 'empty', count: arguments.length } },
    add: (a: number, b: number) => a + b,
    /** Reads the context after awaiting, from a nested function: it follows the call, not the stack. */
    later: async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return await (async () => callContext().method)()
    },
    guarded: {
      read: async (file: UploadedFile) => {
        guardedRuns++
        return await file.text()
      }
    },
    /** Waits until its call is aborted and notes the reason. */
    untilAborted: async (...args: unknown[]) => {
      const context = callContext()
      if (args.length > 0) void probe.watch(args[0] as UploadedFile)
      probe.note({ started: true })
      const reason = await new Promise<unknown>((resolve) => {
        context.signal.addEventListener('abort', () => resolve(context.signal.reason), { once: true })
      })
      probe.note({ aborted: true, code: (reason as RpcError).code, isRpcError: reason instanceof RpcError })
      return 'too late to answer'
    }
  }

  before(async () => {
    server = await startServer({
      methods,
      beforeCall: ({ method, params, hookParams, context }) => {
        hookCalls.push({ method, params, hookParams, contextMethod: context.method, authorization: context.headers.authorization })
        if ((hookParams as { explode?: boolean } | undefined)?.explode === true) throw new Error('the hook itself broke')
        if (!method.startsWith('guarded.')) return
        if ((hookParams as { token?: string } | undefined)?.token !== 'secret' && context.headers.authorization !== 'Bearer secret') {
          throw new RpcError(ErrorCode.UNAUTHORIZED, 'send a token in pmhparams or Authorization')
        }
      }
    })
  })
  after(async () => await server.close())

  it('callContext() gives a method its call: method, id, request headers, remote address, a live AbortSignal and a logger', async () => {
    const res = await postJson(server.url, { method: 'context', id: 'ctx-1' }, { 'X-Trace': 'trace-42' })
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.json().result, {
      method: 'context',
      id: 'ctx-1',
      trace: 'trace-42',
      remoteAddress: '127.0.0.1',
      signal: { aborted: false },
      log: true
    })
  })

  it('a method receives exactly the params sent: no slot a client fills or leaves empty holds the context', async () => {
    const cases: ReadonlyArray<readonly [params: unknown, expected: unknown]> = [
      [undefined, { a: 'empty', b: 'empty' }],
      [[], { a: 'empty', b: 'empty' }],
      [['x'], { a: 'x', b: 'empty' }],
      [['x', 'y'], { a: 'x', b: 'y' }],
      [{ named: true }, { a: { named: true }, b: 'empty' }]
    ]
    for (const [params, expected] of cases) {
      const res = await postJson(server.url, { method: 'slots', ...(params === undefined ? {} : { params }) })
      const { count, ...rest } = res.json().result as { count: number, a: unknown, b: unknown }
      assert.deepEqual(rest, expected, JSON.stringify(params))
      assert.equal(count, Array.isArray(params) ? params.length : params === undefined ? 0 : 1)
    }
    // The README's echo with no params answers null, not the request's headers (Cookie, Authorization included).
    const echo = await postJson(server.url, { method: 'echo' }, { Cookie: 'session=secret', Authorization: 'Bearer secret' })
    assert.equal(echo.json().result, null)
    assert.doesNotMatch(echo.text, /secret/)
    assert.equal((await postJson(server.url, { method: 'add', params: [1] })).json().result, null) // 1 + undefined = NaN
  })

  it('the context follows the call through awaits and nested functions', async () => {
    assert.equal((await postJson(server.url, { method: 'later' })).json().result, 'later')
  })

  it('a before-call hook sees the method, the params as sent (placeholders unbound) and pmhparams; the method does not', async () => {
    hookCalls.length = 0
    const res = await rawRequest(server.url, {
      headers: { 'Content-Type': multipartType(BOUNDARY) },
      body: multipartBody(BOUNDARY, [
        { name: 'json', content: JSON.stringify({ method: 'guarded.read', params: [{ $file: 'f' }], pmhparams: { token: 'secret' } }) },
        { name: 'f', filename: 'f.txt', content: 'let in' }
      ])
    })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.json().result, 'let in')
    assert.deepEqual(hookCalls, [{
      method: 'guarded.read',
      params: [{ $file: 'f' }],
      hookParams: { token: 'secret' },
      contextMethod: 'guarded.read',
      authorization: undefined
    }])
  })

  it('a before-call hook that refuses a krpc call with UNAUTHORIZED answers it in a 200 envelope, the method never runs, and the server keeps serving', async () => {
    const runsBefore = guardedRuns
    const res = await rawRequest(server.url, {
      headers: { 'Content-Type': multipartType(BOUNDARY) },
      body: multipartBody(BOUNDARY, [
        { name: 'json', content: JSON.stringify({ method: 'guarded.read', params: [{ $file: 'f' }], pmhparams: { token: 'wrong' }, id: 5 }) },
        { name: 'f', filename: 'f.bin', content: randomContent(2 * 1024 * 1024) }
      ])
    })
    // The call has pmhparams, so it is krpc's: errors come in a 200 envelope (PROTOCOL.md section 8.1).
    assert.equal(res.status, 200, res.text)
    assert.equal(res.json().error.code, ErrorCode.UNAUTHORIZED)
    assert.equal(res.json().id, 5)
    assert.equal(guardedRuns, runsBefore)
    const next = await postJson(server.url, { method: 'guarded.read', params: [{ $file: 'f' }] }, { Authorization: 'Bearer secret' })
    // Let in by its header this time; a JSON call has no parts, so its placeholder is a missing file.
    assert.equal(next.json().error.code, ErrorCode.MISSING_FILE)
    assert.equal((await postJson(server.url, { method: 'echo', params: [1] })).json().result, 1)
  })

  it('a hook that throws a plain error is answered with UNHANDLED without its details', async () => {
    const res = await postJson(server.url, { method: 'echo', params: [1], pmhparams: { explode: true } })
    assert.equal(res.status, 200, 'a krpc call (it has pmhparams) gets its error in a 200 envelope')
    assert.equal(res.json().error.code, ErrorCode.UNHANDLED)
    assert.equal(res.json().error.data, undefined)
    assert.ok(!res.text.includes('the hook itself broke'), res.text)
  })

  it('the AbortSignal fires with ABORTED when the client disconnects mid-upload', async () => {
    probe = new Probe()
    const head = partHead(BOUNDARY, { name: 'json' }) + JSON.stringify({ method: 'untilAborted', params: [{ $file: 'f' }] }) + '\r\n' +
      partHead(BOUNDARY, { name: 'f', filename: 'f.bin' })
    const req = await openRequest(server.url, {
      headers: { 'Content-Type': multipartType(BOUNDARY), 'Content-Length': String(64 * 1024 * 1024) }
    })
    await req.write(head)
    await req.write(randomContent(256 * 1024))
    await probe.until((p) => p.notes.some((n) => n.started === true) && p.bytes > 0, 'the method to start reading')
    req.destroy()
    await probe.until((p) => p.notes.some((n) => n.aborted === true), 'the signal to fire')
    assert.deepEqual(probe.notes.find((n) => n.aborted === true), { aborted: true, code: ErrorCode.ABORTED, isRpcError: true })
    // The file the method was reading failed rather than ending.
    await probe.until((p) => p.error !== undefined || p.ended, 'the file stream to settle')
    assert.equal(probe.ended, false)
    assert.equal((await postJson(server.url, { method: 'echo', params: ['after abort'] })).json().result, 'after abort')
  })

  it('the AbortSignal fires when the client disconnects while a JSON call runs', async () => {
    probe = new Probe()
    const body = JSON.stringify({ method: 'untilAborted' })
    const req = await openRequest(server.url, { headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } })
    await req.write(body)
    await probe.until((p) => p.notes.some((n) => n.started === true), 'the method to start')
    req.destroy()
    await probe.until((p) => p.notes.some((n) => n.aborted === true), 'the signal to fire')
    assert.equal(probe.notes.find((n) => n.aborted === true)?.code, ErrorCode.ABORTED)
  })
})
