import { parseArgs } from 'node:util'
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
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help || positionals[0] !== 'serve' || positionals[1] === undefined) {
    console.log(USAGE)
    process.exitCode = values.help ? 0 : 2
    return
  }
  const methods = await loadMethods(positionals[1])
  const limits: Partial<Limits> = {}
  for (const entry of values.limit) {
    const [name, value] = entry.split('=')
    limits[name as keyof Limits] = Number(value)
  }
  const app = createServer({
    methods,
    path: values.path,
    allowedOrigins: values['allow-origin'],
    enableGet: values['enable-get'],
    exposeErrors: values['expose-errors'],
    limits,
    ...(values['tmp-dir'] === undefined ? {} : { tmpDir: values['tmp-dir'] }),
    fastify: { logger: { level: values['log-level'] } }
  })
  const address = await app.listen({ port: Number(values.port), host: values.host })
  console.log(`formcall listening on ${address}${values.path} (${listMethods(methods).join(', ')})`)

  let closing = false
  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    console.log(`formcall: ${signal} received, finishing in-flight calls`)
    const force = setTimeout(() => {
      console.error('formcall: calls still running after 10 s; exiting')
      process.exit(1)
    }, 10_000)
    force.unref()
    app.close().then(() => process.exit(0), (err: unknown) => {
      console.error(err)
      process.exit(1)
    })
  }
  process.once('SIGINT', () => shutdown('SIGINT'))
  process.once('SIGTERM', () => shutdown('SIGTERM'))
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`formcall: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
