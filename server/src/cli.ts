import { readFile, stat } from 'node:fs/promises'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { WorkerExecutor } from './dispatch/worker/worker-executor.js'
import { createServer } from './create-server.js'
import { loadMethods } from './load-methods.js'
import { listMethods } from './dispatch/resolve-method.js'
import { DEFAULT_LIMITS, isOriginPathPrefix, type Limits, type UploadsOptions } from './options.js'
import { describeMethods, openRpcDocument, type OpenRpcInfo } from './describe/openrpc.js'
import { packageInfo } from './describe/package-info.js'

const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
// setTimeout fires at once (with a warning) for a delay above 2^31 - 1 ms, so a longer timeout would mean none.
const MAX_TIMEOUT_MS = 2 ** 31 - 1
const SYNOPSIS = 'formcall serve <methods-module> [options]'
const DESCRIBE_SYNOPSIS = 'formcall describe <methods-module> [--title T] [--api-version V] [--description D]'
/** The flags `describe` takes; the others are the server's. */
const DESCRIBE_FLAGS = new Set(['title', 'api-version', 'description', 'help', 'version'])

const USAGE = `Usage: ${SYNOPSIS}
       ${DESCRIBE_SYNOPSIS}

serve: serves the default export of <methods-module> (.js, .mjs or .ts): functions are methods, nested objects
namespaces. describe: prints the OpenRPC document of those methods (what rpc.discover answers) as JSON and exits,
without starting a server (the module is loaded in this process).

Options:
  --port N               port to listen on, 0 to 65535 (default 8080; 0 picks a free one)
  --host H               address to listen on (default 127.0.0.1)
  --path P               endpoint path, starting with / (default /rpc)
  --allow-origin O       allow browser calls from origin O (repeatable; * for any)
  --allow-host H         trust same-origin browser calls by host name H, besides localhost and IP addresses
                         (repeatable; * for any; guards against DNS rebinding)
  --trust-proxy P        read X-Forwarded-Host/-Proto/-For from the reverse proxy P: its addresses or CIDRs,
                         comma-separated (e.g. 10.0.0.5 or 10.0.0.0/8,::1; loopback, linklocal, uniquelocal), or
                         true for any peer (only when nothing else can reach the server); default: none
  --enable-get           also answer GET <path>?json=<call>
  --static D             serve the folder D (pages and their assets) at /, on the same origin as the methods, so
                         its plain HTML forms (no JavaScript needed) and scripts call them without CORS
  --form-redirect P      the path prefix a form's "redirect" and "errorRedirect" may point under (repeatable;
                         default /, any path of this origin): e.g. --form-redirect /done/
  --expose-errors        send stack traces of method errors to clients (development only)
  --limit NAME=VALUE     set a limit (repeatable): ${LIMIT_NAMES.join(', ')}
  --spool-dir D          the server's own directory for upload spool files: private (0700, created if missing),
                         leftovers of a crashed run removed at start (default: a per-process one in --tmp-dir)
  --tmp-dir D            where the per-process spool directory is made (default: the OS temp dir)
  --isolation MODE       worker (default: each call in a pooled worker thread) or inline (in the server's thread)
  --workers N            worker threads, 1 or more (default max(8, 4 x cores))
  --max-queue N          calls waiting for a worker before 503 OVERLOADED (default max(1024, 64 x workers))
  --call-timeout MS      how long a method may run after its upload completed (default 60000; 0 = off)
  --max-heap-mb N        heap limit per worker (default 512)
  --calls-per-worker N   concurrent calls per worker, for trusted I/O-bound code (default 1)
  --idle-upload-timeout MS  fail an upload that sends nothing for this long (default 30000; 0 = off)
  --min-upload-rate B    bytes per second an upload must average over each idle window (default 1024)
  --uploads D            enable resumable uploads: a tus endpoint at <path>/uploads/ storing into directory D
                         (private, 0700, created if missing) and the $upload placeholder. Upload tokens are made
                         with a key kept in D, or with FORMCALL_UPLOAD_SECRET (32+ characters) when it is set
  --upload-max-size B    the largest upload in bytes (default: the fileSize limit)
  --upload-expire-after MS  delete uploads this long after their creation (default 86400000, 24 h)
  --upload-max-count N   uploads the directory may hold at once; more creations get 503 (default 1000)
  --upload-delete-after-call  delete an upload once a call that bound it succeeded
  --no-discover          do not answer rpc.discover (OpenRPC service discovery, on by default)
  --title T              the OpenRPC document's info.title (default: the name in the package.json nearest the
                         module, else formcall)
  --api-version V        its info.version, the API's own (default: that package.json's version, else 0.0.0)
  --description D        its info.description (default: that package.json's description)
  --log-level L          ${LOG_LEVELS.join(', ')} (default warn)
  -v, --version          print the version
  -h, --help             show this help`

/** A mistake in the command line (exit code 2), as opposed to a server that could not start (exit code 1). */
class UsageError extends Error {}

/**
 * Runs the `formcall` command line; resolves once the server is listening, or once help or the version is printed.
 * `describe` prints its document and ends the process.
 */
export async function main (argv: string[]): Promise<void> {
  const { values, positionals, tokens } = parseCommandLine(argv)
  if (values.help) {
    console.log(USAGE)
    return
  }
  if (values.version) {
    console.log(await readVersion())
    return
  }
  const [command, methodsModule, extra] = positionals
  if (command === undefined) throw new UsageError(`missing the command (serve or describe): ${SYNOPSIS}; see formcall --help`)
  if (command !== 'serve' && command !== 'describe') {
    throw new UsageError(`unknown command "${command}"; the commands are serve and describe: ${SYNOPSIS}`)
  }
  if (methodsModule === undefined) throw new UsageError(`${command} needs the methods module: ${command === 'serve' ? SYNOPSIS : DESCRIBE_SYNOPSIS}`)
  if (extra !== undefined) {
    throw new UsageError(`unexpected argument "${extra}": ${command} takes one methods module (quote a path that has spaces)`)
  }
  if (command === 'describe') {
    const serverFlag = tokens.find((token) => token.kind === 'option' && !DESCRIBE_FLAGS.has(token.name))
    if (serverFlag?.kind === 'option') throw new UsageError(`${serverFlag.rawName} is an option of serve; describe takes --title, --api-version and --description`)
    await describeModule(methodsModule, values)
    return
  }
  // Every flag is checked before anything loads: a mistyped flag is reported as itself, not as whatever it breaks.
  const isolation = values.isolation
  if (isolation !== 'worker' && isolation !== 'inline') throw new UsageError(`--isolation must be worker or inline, got "${isolation}"`)
  const logLevel = values['log-level']
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  }
  const port = wholeNumber('--port', values.port, 0, 65_535, ' (0 picks a free port)')
  if (values.host.trim() === '') throw new UsageError('--host must not be empty; give an address to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::')
  if (!values.path.startsWith('/')) throw new UsageError(`--path must start with "/", e.g. /rpc, got "${values.path}"`)
  const limits = parseLimits(values.limit)
  const trustProxy = values['trust-proxy'] === undefined ? undefined : parseTrustProxy(values['trust-proxy'])
  const uploads = parseUploads(values)
  if (values.static !== undefined && values.static.trim() === '') throw new UsageError('--static must be a directory path: the folder of pages to serve')
  const formRedirects = parseFormRedirects(values['form-redirect'])
  const pool = {
    ...optional('workers', values.workers, (value) => wholeNumber('--workers', value, 1)),
    ...optional('maxQueue', values['max-queue'], (value) => wholeNumber('--max-queue', value, 0)),
    ...optional('callTimeout', values['call-timeout'],
      (value) => wholeNumber('--call-timeout', value, 0, MAX_TIMEOUT_MS, ' milliseconds (0 = no timeout)')),
    ...optional('maxHeapMb', values['max-heap-mb'], (value) => wholeNumber('--max-heap-mb', value, 1)),
    ...optional('callsPerWorker', values['calls-per-worker'], (value) => wholeNumber('--calls-per-worker', value, 1)),
    ...optional('idleUploadTimeout', values['idle-upload-timeout'],
      (value) => wholeNumber('--idle-upload-timeout', value, 0, MAX_TIMEOUT_MS, ' milliseconds (0 = off)')),
    ...optional('minUploadRate', values['min-upload-rate'], (value) => wholeNumber('--min-upload-rate', value, 0))
  }

  if (values['no-discover']) {
    const infoFlag = tokens.find((token) => token.kind === 'option' && ['title', 'api-version', 'description'].includes(token.name))
    if (infoFlag?.kind === 'option') throw new UsageError(`${infoFlag.rawName} describes the discovery document, which --no-discover turns off`)
  }
  const discover = values['no-discover'] ? false : await discoveryInfo(methodsModule, values)

  // Inline mode imports the module here (and fails fast on a bad one); worker mode lets each worker import it.
  const methods = isolation === 'inline' ? await loadMethods(methodsModule) : undefined
  const app = createServer({
    ...(methods === undefined ? { methodsModule: await checkedModulePath(methodsModule) } : { methods }),
    isolation,
    ...pool,
    path: values.path,
    allowedOrigins: values['allow-origin'],
    allowedHosts: values['allow-host'].includes('*') ? true : values['allow-host'],
    enableGet: values['enable-get'],
    exposeErrors: values['expose-errors'],
    limits,
    ...(values.static === undefined ? {} : { static: { root: values.static } }),
    ...formRedirects,
    ...(values['tmp-dir'] === undefined ? {} : { tmpDir: values['tmp-dir'] }),
    ...(values['spool-dir'] === undefined ? {} : { spoolDirectory: values['spool-dir'] }),
    ...(trustProxy === undefined ? {} : { trustProxy }),
    ...(uploads === undefined ? {} : { uploads }),
    discover,
    fastify: { logger: { level: logLevel } }
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
  // Ready first, so a methods module that fails to load is reported as such and not as a failure to listen.
  await app.ready()
  let address: string
  try {
    address = await app.listen({ port, host: values.host })
  } catch (err) {
    throw new Error(listenFailure(err, values.host, port), { cause: err })
  }
  const names = methods === undefined ? (app.formcall.executor as WorkerExecutor).methodNames : listMethods(methods)
  const uploadsNote = uploads === undefined ? '' : `; resumable uploads at ${values.path === '/' ? '' : values.path}/uploads/`
  const pagesNote = values.static === undefined ? '' : `; pages from ${values.static} at ${address}/`
  console.log(`formcall listening on ${address}${values.path} (${isolation}; methods: ${names.join(', ')}${uploadsNote}${pagesNote})`)
}

/**
 * Prints the OpenRPC document of a methods module, as `rpc.discover` would answer it, and exits: a module may hold
 * handles open (a connection pool, a timer) that would keep the process alive with nothing left to do.
 */
async function describeModule (methodsModule: string, values: DiscoveryFlags): Promise<void> {
  const info = await discoveryInfo(methodsModule, values)
  const methods = await loadMethods(methodsModule)
  const text = JSON.stringify(openRpcDocument(describeMethods(methods), info), null, 2)
  await new Promise<void>((resolve) => process.stdout.write(`${text}\n`, () => resolve()))
  process.exit(0)
}

/** The discovery flags, as parsed. */
interface DiscoveryFlags { title?: string | undefined, 'api-version'?: string | undefined, description?: string | undefined }

/** The document's `info`: the flags, else what the module's package.json says (see {@link packageInfo}). */
async function discoveryInfo (methodsModule: string, values: DiscoveryFlags): Promise<OpenRpcInfo> {
  const flag = (name: keyof DiscoveryFlags): string | undefined => {
    const value = values[name]
    if (value !== undefined && value.trim() === '') throw new UsageError(`--${name} must not be empty`)
    return value
  }
  const title = flag('title')
  const version = flag('api-version')
  const description = flag('description')
  const fallback = await packageInfo(methodsModule)
  const about = description ?? fallback.description
  return { title: title ?? fallback.title, version: version ?? fallback.version, ...(about === undefined ? {} : { description: about }) }
}

function parseCommandLine (argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      tokens: true,
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '127.0.0.1' },
        path: { type: 'string', default: '/rpc' },
        'allow-origin': { type: 'string', multiple: true, default: [] },
        'allow-host': { type: 'string', multiple: true, default: [] },
        'trust-proxy': { type: 'string' },
        'enable-get': { type: 'boolean', default: false },
        static: { type: 'string' },
        'form-redirect': { type: 'string', multiple: true, default: [] },
        'expose-errors': { type: 'boolean', default: false },
        limit: { type: 'string', multiple: true, default: [] },
        'tmp-dir': { type: 'string' },
        'spool-dir': { type: 'string' },
        'log-level': { type: 'string', default: 'warn' },
        isolation: { type: 'string', default: 'worker' },
        workers: { type: 'string' },
        'max-queue': { type: 'string' },
        'call-timeout': { type: 'string' },
        'max-heap-mb': { type: 'string' },
        'calls-per-worker': { type: 'string' },
        'idle-upload-timeout': { type: 'string' },
        'min-upload-rate': { type: 'string' },
        uploads: { type: 'string' },
        'upload-max-size': { type: 'string' },
        'upload-expire-after': { type: 'string' },
        'upload-max-count': { type: 'string' },
        'upload-delete-after-call': { type: 'boolean', default: false },
        'no-discover': { type: 'boolean', default: false },
        title: { type: 'string' },
        'api-version': { type: 'string' },
        description: { type: 'string' },
        version: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false }
      }
    })
  } catch (err) {
    // parseArgs's own messages run over several sentences and suggest `--` quoting; one line that names the flag is
    // what a user needs.
    const { code, message } = err as { code?: string, message: string }
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(`unknown option ${/'([^']+)'/.exec(message)?.[1] ?? message}; see formcall --help`)
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = /--[\w-]+/.exec(message)?.[0] ?? 'an option'
      throw new UsageError(/does not take an argument/.test(message)
        ? `${flag} takes no value; see formcall --help`
        : `${flag} needs a value (write ${flag}=VALUE for a value that starts with -); see formcall --help`)
    }
    throw new UsageError(`${message.split('\n', 1)[0] as string}; see formcall --help`)
  }
}

/**
 * `value` as a whole number from `min` to `max`. `Number()` alone would take "", " ", "1e3" and "0x10" (and `""` as
 * 0), so the digits are checked first.
 */
function wholeNumber (flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER, note = ''): number {
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (!(number >= min && number <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    throw new UsageError(`${flag} must be a whole number ${range}${note}, got "${value}"`)
  }
  return number
}

/** `{ [name]: parse(value) }`, or nothing when the flag was not given, so the server's default applies. */
function optional<K extends string> (name: K, value: string | undefined, parse: (value: string) => number): { [key in K]?: number } {
  return value === undefined ? {} : { [name]: parse(value) } as { [key in K]: number }
}

/** proxy-addr's names for address ranges, accepted in `--trust-proxy` lists as Fastify accepts them. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal']

/** `--trust-proxy`: `true`, `false`, or a comma-separated list of addresses, CIDRs and range names. */
function parseTrustProxy (value: string): boolean | string {
  const text = value.trim()
  if (text === 'true') return true
  if (text === 'false') return false
  if (/^\d+$/.test(text)) {
    throw new UsageError(`--trust-proxy takes the proxy's addresses or CIDRs, not a hop count ("${value}"): a hop count cannot ` +
      'tell the proxy from a client that sends X-Forwarded-* itself; give the address the proxy connects from, e.g. --trust-proxy 10.0.0.5')
  }
  const entries = text.split(',').map((entry) => entry.trim())
  for (const entry of entries) {
    if (!isAddressOrRange(entry)) {
      throw new UsageError(`--trust-proxy must be true, false or comma-separated addresses or CIDRs (e.g. 10.0.0.5,10.1.0.0/16; ` +
        `or ${PROXY_RANGE_NAMES.join(', ')}), got "${entry}" in "${value}"`)
    }
  }
  return entries.join(',')
}

function isAddressOrRange (entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true
  const slash = entry.indexOf('/')
  const address = slash < 0 ? entry : entry.slice(0, slash)
  const family = isIP(address)
  if (family === 0) return false
  if (slash < 0) return true
  const prefix = entry.slice(slash + 1)
  // A prefix length, or an IPv4 netmask (proxy-addr takes 10.0.0.0/255.0.0.0 too).
  if (/^\d+$/.test(prefix)) return Number(prefix) <= (family === 4 ? 32 : 128)
  return family === 4 && isIP(prefix) === 4
}

/**
 * The `--uploads` flags, or undefined without `--uploads`. The secret comes from the environment, not a flag: a
 * command line is visible to every user of the machine (`ps`).
 */
function parseUploads (values: { uploads?: string | undefined, 'upload-max-size'?: string | undefined, 'upload-expire-after'?: string | undefined, 'upload-max-count'?: string | undefined, 'upload-delete-after-call'?: boolean | undefined }): UploadsOptions | undefined {
  const directory = values.uploads
  if (directory === undefined) {
    for (const flag of ['upload-max-size', 'upload-expire-after', 'upload-max-count'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --uploads <dir>, which enables uploads`)
    }
    if (values['upload-delete-after-call'] === true) throw new UsageError('--upload-delete-after-call needs --uploads <dir>, which enables uploads')
    return undefined
  }
  if (directory.trim() === '') throw new UsageError('--uploads must be a directory path: where uploads are stored')
  const secret = process.env.FORMCALL_UPLOAD_SECRET
  if (secret !== undefined && secret !== '' && secret.length < 32) {
    throw new UsageError('FORMCALL_UPLOAD_SECRET must be at least 32 characters; make one with `openssl rand -hex 32`')
  }
  return {
    directory,
    ...optional('maxSize', values['upload-max-size'], (value) => wholeNumber('--upload-max-size', value, 1, Number.MAX_SAFE_INTEGER, ' (bytes)')),
    ...optional('expireAfter', values['upload-expire-after'],
      (value) => wholeNumber('--upload-expire-after', value, 1, Number.MAX_SAFE_INTEGER, ' milliseconds')),
    ...optional('maxUploads', values['upload-max-count'], (value) => wholeNumber('--upload-max-count', value, 1, Number.MAX_SAFE_INTEGER, '')),
    ...(secret === undefined || secret === '' ? {} : { secret }),
    ...(values['upload-delete-after-call'] === true ? { deleteAfterCall: true } : {})
  }
}

/**
 * `--form-redirect` prefixes as the `formRedirects` option, or nothing when none is given (the server's default, `/`).
 * Checked here too, so the message names the flag.
 */
function parseFormRedirects (prefixes: readonly string[]): { formRedirects?: string[] } {
  for (const prefix of prefixes) {
    if (!isOriginPathPrefix(prefix)) {
      throw new UsageError(`--form-redirect must be a path prefix of this server starting with one "/", e.g. /done/, got "${prefix}"`)
    }
  }
  return prefixes.length === 0 ? {} : { formRedirects: [...prefixes] }
}

function parseLimits (entries: readonly string[]): Partial<Limits> {
  const limits: Partial<Limits> = {}
  for (const entry of entries) {
    const equals = entry.indexOf('=')
    if (equals < 0) throw new UsageError(`--limit must be NAME=VALUE with NAME one of ${LIMIT_NAMES.join(', ')}, got "${entry}"`)
    const name = entry.slice(0, equals)
    const value = entry.slice(equals + 1)
    if (!(LIMIT_NAMES as string[]).includes(name)) {
      throw new UsageError(`--limit ${entry}: unknown limit "${name}"; the limits are ${LIMIT_NAMES.join(', ')}`)
    }
    limits[name as keyof Limits] = wholeNumber(`--limit ${name}`, value, 0, Number.MAX_SAFE_INTEGER, ' (bytes, or a count)')
  }
  return limits
}

/** The version in the server package's package.json, one level above both src/cli.ts and the compiled dist/cli.js. */
async function readVersion (): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return manifest.version
}

function listenFailure (err: unknown, host: string, port: number): string {
  const { code, message } = err as { code?: string, message?: string }
  switch (code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use; stop what listens there or choose another --port (0 picks a free one)`
    case 'EACCES':
      return `not allowed to listen on port ${port} on ${host}; use a port above 1023 or run with the privilege to bind it`
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${host}: no network interface of this machine has that address; use e.g. 127.0.0.1 or 0.0.0.0`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${host}: the host name does not resolve; give an address such as 127.0.0.1 or 0.0.0.0`
    default:
      return `cannot listen on ${host}:${port}: ${String(message ?? err)}`
  }
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
  // One line: a message that reaches here from a dependency can span several, and scripts read the first.
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim()
  console.error(`formcall: ${message}`)
  process.exit(err instanceof UsageError ? 2 : 1)
})
