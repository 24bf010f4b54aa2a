import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { WorkerExecutor } from './dispatch/worker/worker-executor.js'
import { createServer } from './create-server.js'
import { loadMethods } from './load-methods.js'
import { listMethods } from './dispatch/resolve-method.js'
import { DEFAULT_LIMITS, type Limits } from './options.js'

const USAGE = `Usage: formcall serve <methods-module> [options]

Serves the default export of <methods-module> (.js, .mjs or .ts): functions are methods, nested objects namespaces.

Options:
  --port N               port to listen on (default 8080; 0 picks a free one)
  --host H               address to listen on (default 127.0.0.1)
  --path P               endpoint path (default /rpc)
  --allow-origin O       allow browser calls from origin O (repeatable; * for any)
  --enable-get           also answer GET <path>?json=<call>
  --expose-errors        send stack traces of method errors to clients (development only)
  --limit NAME=VALUE     set a limit (repeatable): ${Object.keys(DEFAULT_LIMITS).join(', ')}
  --tmp-dir D            where upload spool files go (default: the OS temp dir)
  --isolation MODE       worker (default: each call in a pooled worker thread) or inline (in the server's thread)
  --workers N            worker threads (default max(8, 4 x cores))
  --max-queue N          calls waiting for a worker before 503 OVERLOADED (default 8 x workers)
  --call-timeout MS      how long a method may run after its upload completed (default 60000)
  --max-heap-mb N        heap limit per worker (default 512)
  --calls-per-worker N   concurrent calls per worker, for trusted I/O-bound code (default 1)
  --idle-upload-timeout MS  fail an upload that sends nothing for this long (default 30000; 0 = off)
  --log-level L          fatal, error, warn, info, debug (default warn)
  -h, --help             show this help`

/** Runs the `formcall` command line; resolves once the server is listening. */
export async function main (argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      path: { type: 'string', default: '/rpc' },
      'allow-origin': { type: 'string', multiple: true, default: [] },
      'enable-get': { type: 'boolean', default: false },
      'expose-errors': { type: 'boolean', default: false },
      limit: { type: 'string', multiple: true, default: [] },
      'tmp-dir': { type: 'string' },
      'log-level': { type: 'string', default: 'warn' },
      isolation: { type: 'string', default: 'worker' },
      workers: { type: 'string' },
      'max-queue': { type: 'string' },
      'call-timeout': { type: 'string' },
      'max-heap-mb': { type: 'string' },
      'calls-per-worker': { type: 'string' },
      'idle-upload-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help || positionals[0] !== 'serve' || positionals[1] === undefined) {
    console.log(USAGE)
    process.exitCode = values.help ? 0 : 2
    return
  }
  const isolation = values.isolation
  if (isolation !== 'worker' && isolation !== 'inline') throw new Error(`--isolation must be worker or inline, got "${isolation}"`)
  const methodsModule = positionals[1]
  // Inline mode imports the module here (and fails fast on a bad one); worker mode lets each worker import it.
  const methods = isolation === 'inline' ? await loadMethods(methodsModule) : undefined
  const limits: Partial<Limits> = {}
  for (const entry of values.limit) {
    const [name, value] = entry.split('=')
    limits[name as keyof Limits] = Number(value)
  }

  const app = createServer({
    ...(methods === undefined ? { methodsModule: await checkedModulePath(methodsModule) } : { methods }),
    isolation,
    ...numberOptions({
      workers: values.workers,
      maxQueue: values['max-queue'],
      callTimeout: values['call-timeout'],
      maxHeapMb: values['max-heap-mb'],
      callsPerWorker: values['calls-per-worker'],
      idleUploadTimeout: values['idle-upload-timeout']
    }),
    path: values.path,
    allowedOrigins: values['allow-origin'],
    enableGet: values['enable-get'],
    exposeErrors: values['expose-errors'],
    limits,
    ...(values['tmp-dir'] === undefined ? {} : { tmpDir: values['tmp-dir'] }),
    fastify: { logger: { level: values['log-level'] } }
  })
  // Handlers go in before listening: a signal right after the address is printed must still shut down cleanly.
  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    console.log(`formcall: ${signal} received, finishing in-flight calls`)
    const force = setTimeout(() => {
      console.error('formcall: calls still running after 15 s; exiting')
      process.exit(1)
    }, 15_000)
    force.unref()
    app.close().then(() => process.exit(0), (err: unknown) => {
      console.error(err)
      process.exit(1)
    })
  }
  process.once('SIGINT', () => shutdown('SIGINT'))
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  const address = await app.listen({ port: Number(values.port), host: values.host })
  const names = methods === undefined ? (app.formcall.executor as WorkerExecutor).methodNames : listMethods(methods)
  console.log(`formcall listening on ${address}${values.path} (${isolation}; methods: ${names.join(', ')})`)

}

function numberOptions (values: Record<string, string | undefined>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue
    const number = Number(value)
    if (!Number.isFinite(number) || number < 0) throw new Error(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a number >= 0, got "${value}"`)
    out[name] = number
  }
  return out
}

async function checkedModulePath (modulePath: string): Promise<string> {
  const absolute = resolve(modulePath)
  try {
    await stat(absolute)
  } catch {
    throw new Error(`methods module "${modulePath}" not found (looked at ${absolute})`)
  }
  return absolute
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`formcall: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
