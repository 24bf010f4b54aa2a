import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createDemoServer } from '../../demo/serve.js'
import { CLIENT_PAGE } from './browser-client-page.js'

/** One answer the server gave on its formcall path, as the test saw it leave. */
export interface RecordedAnswer {
  /** The HTTP method (`POST`, or `OPTIONS` for a CORS preflight). */
  method: string
  /** The request's `Origin` header. */
  origin: string | undefined
  /** The request's content type, without parameters. */
  contentType: string | undefined
  status: number
  /** The JSON-RPC error code, when the answer was an error envelope. */
  errorCode: number | undefined
}

/** One line of the server's log (pino JSON). */
export type LogLine = Record<string, unknown> & { msg?: string }

/** The demo server running on 127.0.0.1 for one test file. */
export interface DemoServer {
  /** `http://127.0.0.1:<port>`: the page's origin. */
  readonly origin: string
  /** The methods endpoint. */
  readonly rpcUrl: string
  /** With `clientBundle`: a same-origin page with the client on `window.formcall`. */
  readonly clientPageUrl: string
  /** The server's spool directory (fresh for this server). */
  readonly tmpDir: string
  /** Every answer on the formcall path, in order. */
  readonly answers: readonly RecordedAnswer[]
  /** Every line the server logged, the methods' own lines (`ctx.log`) included. */
  readonly logs: readonly LogLine[]
  /** The first log line, logged already or still to come, whose message is `msg`. */
  waitForLog: (msg: string) => Promise<LogLine>
  /** Resolves once the spool directory holds a file (the server spooled a part to disk). */
  waitForTmpFile: () => Promise<void>
  /** Resolves once the spool directory is empty (temp files are removed as the response closes). */
  waitForEmptyTmpDir: () => Promise<void>
  close: () => Promise<void>
}

/**
 * Starts the demo server (`createDemoServer` from demo/serve.ts: the demo methods in 4 pooled workers, the built page
 * at `/`) on 127.0.0.1 with a free port and a spool directory of its own, and records its answers and log.
 *
 * @example
 * ```ts
 * await buildPage({ outDir: pageDir })
 * const server = await startDemoServer({ pageDir })
 * after(() => server.close())
 * ```
 */
export async function startDemoServer (options: {
  /** Where `buildPage` wrote the page. */
  pageDir: string
  /** Origins allowed to call cross-origin (none by default). */
  allowedOrigins?: string[]
  /** Another methods module than the demo's, for test-only methods. */
  methodsModule?: URL
  /** Serve the client page at `/client/` with this bundle (see browser-client-page.ts). */
  clientBundle?: string
}): Promise<DemoServer> {
  const tmpDir = await mkdtemp(join(tmpdir(), 'formcall-demo-spool-'))
  const logs: LogLine[] = []
  const answers: RecordedAnswer[] = []
  const app = await createDemoServer({
    tmpDir,
    workers: 4,
    pageDir: options.pageDir,
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    ...(options.methodsModule === undefined ? {} : { methodsModule: options.methodsModule }),
    fastify: { logger: { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line) as LogLine) } } } }
  })

  // Hooks on the root apply to the formcall path as well: the answers are recorded as the server sends them.
  const errorCodes = new WeakMap<object, number>()
  app.addHook('onSend', async (request, _reply, payload) => {
    if (typeof payload === 'string' && payload.startsWith('{')) {
      const code = (JSON.parse(payload) as { error?: { code?: unknown } }).error?.code
      if (typeof code === 'number') errorCodes.set(request, code)
    }
    return payload
  })
  app.addHook('onResponse', async (request, reply) => {
    if (!request.url.startsWith('/rpc')) return
    answers.push({
      method: request.method,
      origin: request.headers.origin,
      contentType: request.headers['content-type']?.split(';')[0],
      status: reply.statusCode,
      errorCode: errorCodes.get(request)
    })
  })
  if (options.clientBundle !== undefined) {
    const bundle = options.clientBundle
    app.get('/client/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(CLIENT_PAGE))
    app.get('/client/formcall.js', async (_request, reply) => await reply.type('text/javascript; charset=utf-8').send(bundle))
  }

  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const origin = address.replace('localhost', '127.0.0.1')

  const eventually = async <T>(check: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> => {
    // A hang guard for things that happen after an answer (a log line, a file removed), not a speed expectation.
    const deadline = Date.now() + 30_000
    for (;;) {
      const value = await check()
      if (value !== undefined) return value
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
      await sleep(20)
    }
  }

  return {
    origin,
    rpcUrl: `${origin}/rpc`,
    clientPageUrl: `${origin}/client/`,
    tmpDir,
    answers,
    logs,
    waitForLog: async (msg) => await eventually(() => logs.find((line) => line.msg === msg), `the server to log "${msg}"`),
    waitForTmpFile: async () => {
      await eventually(async () => (await readdir(tmpDir)).length > 0 ? true : undefined, `a file in ${tmpDir}`)
    },
    waitForEmptyTmpDir: async () => {
      await eventually(async () => (await readdir(tmpDir)).length === 0 ? true : undefined, `${tmpDir} to be empty`)
    },
    close: async () => {
      await app.close()
      await rm(tmpDir, { recursive: true, force: true })
    }
  }
}
