import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { FormcallOptions } from './options.js'
import { formcall } from './plugin.js'

/** Options of {@link createServer}: the plugin's, plus Fastify's own under `fastify`. */
export interface CreateServerOptions extends FormcallOptions {
  /** Passed to `Fastify()` (logger, trustProxy, maxHeaderSize, …). */
  fastify?: FastifyServerOptions
  /**
   * Milliseconds a client may take to send its request headers (Node's `headersTimeout`). Default 30 000 (Node's own
   * is 60 000): a client that opens connections and trickles headers holds a socket each.
   */
  headersTimeout?: number
  /** Open connections the server accepts at once; more are refused at accept. Default 4096. */
  maxConnections?: number
  /**
   * The reverse proxies whose `X-Forwarded-Host`, `X-Forwarded-Proto` and `X-Forwarded-For` count (Fastify's
   * `trustProxy`): `true` for any peer, or the proxies' addresses and CIDRs (`'127.0.0.1'`, `'10.0.0.0/8, ::1'`,
   * `['10.0.0.5']`, or proxy-addr's names `loopback`, `linklocal`, `uniquelocal`), or a function of the peer's
   * address. Only a request whose immediate peer is trusted has its forwarded headers read; from any other peer they
   * are ignored. The browser same-origin check (PROTOCOL.md section 9) then compares `Origin` with the forwarded
   * scheme and host, so a proxy that terminates TLS or rewrites `Host` still lets the page's own calls through.
   * Default: none trusted. A hop count is refused: it cannot tell a proxy from a client that sends the headers itself
   * (Fastify 5 ignores the forwarded host and scheme for it).
   */
  trustProxy?: boolean | string | readonly string[] | ((address: string, hop: number) => boolean)
  /**
   * A folder of pages and their assets to serve at `/`, on the same origin as the calls, so a page's forms and
   * scripts call the methods without CORS (`formcall serve --static ./public`). `GET` and `HEAD` only; `/` and a
   * folder's path ending in `/` answer its `index.html`; a missing file is 404; dotfiles are not served. The formcall path (and
   * `<path>/uploads/`) is the methods': a file at that path is never served. Default: no pages.
   */
  static?: StaticOptions
}

/** The `static` option of {@link createServer}: what folder is served at `/`. */
export interface StaticOptions {
  /**
   * The folder: an absolute path, a path relative to the working directory, or a `file:` URL. It must exist and be a
   * directory when `createServer()` is called; anything else throws there, before the server starts.
   */
  root: string | URL
}

/**
 * A Fastify instance serving the methods at `/rpc`. Call `listen()` on it; `close()` stops it.
 *
 * @example
 * ```ts
 * const app = createServer({ methods: { echo: (s: string) => s } })
 * await app.listen({ port: 8080, host: '127.0.0.1' })
 * ```
 */
export function createServer (options: CreateServerOptions): FastifyInstance {
  const { fastify: fastifyOptions, headersTimeout = 30_000, maxConnections = 4096, trustProxy, static: pages, ...formcallOptions } = options
  // Checked first: a wrong folder is reported before anything starts (workers, spool directory).
  const pagesRoot = pages === undefined ? undefined : staticRoot(pages.root)
  const app = Fastify({
    // Uploads can take long; Node's 5-minute request timeout would cut a slow 20 GB upload. Bodies are bounded by
    // formcall's bodyTimeout and idleUploadTimeout instead.
    requestTimeout: 0,
    // Starting the workers and, at close, waiting for running calls (shutdownTimeout) both run inside Fastify's
    // plugin timeout; its 10 s default would fail a close that waits its full default 10 s.
    pluginTimeout: Math.max(60_000, (formcallOptions.shutdownTimeout ?? 10_000) + 10_000),
    // While closing, calls are answered by formcall itself: -32015 SHUTTING_DOWN in a JSON-RPC envelope.
    return503OnClosing: false,
    ...fastifyOptions,
    ...trustProxyOption(trustProxy, fastifyOptions)
  })
  // Bodies have their own bounds (bodyTimeout for a call's JSON, idleUploadTimeout for files); Node's
  // requestTimeout, which would also cut long uploads, stays off.
  app.server.headersTimeout = headersTimeout
  app.server.maxConnections = maxConnections
  // A request for a path nothing serves is answered before its body is read, on a connection that then closes: with
  // Node's requestTimeout off, a body sent slowly (or a Content-Length never met) to such a path would otherwise hold
  // its connection with no bound at all.
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) {
      done()
      return
    }
    reply.code(404).header('connection', 'close')
      .send({ message: `Route ${request.method}:${request.url.slice(0, 200)} not found`, error: 'Not Found', statusCode: 404 })
  })
  app.register(formcall, formcallOptions)
  if (pagesRoot !== undefined) app.register(servePages, { root: pagesRoot })
  return app
}

/**
 * Serves the folder at `/` with @fastify/static, in a scope of its own: its `sendFile` decorator and the hook below
 * stay off the rest of the app (an app may register @fastify/static again for other folders).
 */
async function servePages (scope: FastifyInstance, options: { root: string }): Promise<void> {
  // A page request has no body and none is read here; one that announces a body could trickle it without bound
  // (Node's request timeout is off), so its connection closes once the answer is sent.
  scope.addHook('onRequest', (request, reply, done) => {
    const length = request.headers['content-length']
    if ((length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined) {
      reply.header('connection', 'close')
    }
    done()
  })
  // Loaded only by servers that serve pages (it and its dependencies are a few MiB of every process otherwise).
  const { default: fastifyStatic } = await import('@fastify/static')
  await scope.register(fastifyStatic, { root: options.root, prefix: '/', decorateReply: false })
}

/** The absolute path of the `static` root, checked to be an existing directory. */
function staticRoot (root: string | URL): string {
  const path = resolve(root instanceof URL || root.startsWith('file:') ? fileURLToPath(root) : root)
  const shown = root instanceof URL ? root.href : root
  let isDirectory: boolean
  try {
    isDirectory = statSync(path).isDirectory()
  } catch (err) {
    const { code, message } = err as { code?: string, message: string }
    const missing = code === 'ENOENT' || code === 'ENOTDIR'
    throw new Error(`the static root "${shown}" ${missing ? `does not exist (looked at ${path})` : `cannot be read: ${message}`}; ` +
      'give the folder of pages to serve', { cause: err })
  }
  if (!isDirectory) throw new Error(`the static root "${shown}" is not a directory (${path}); give the folder of pages to serve`)
  return path
}

/** `{ trustProxy }` for Fastify when it is given, checked: a hop count or an empty list is refused. */
function trustProxyOption (trustProxy: CreateServerOptions['trustProxy'], fastifyOptions: FastifyServerOptions | undefined): Pick<FastifyServerOptions, 'trustProxy'> {
  if (trustProxy === undefined) return {}
  if (fastifyOptions?.trustProxy !== undefined) {
    throw new TypeError('trustProxy is given twice, as trustProxy and as fastify.trustProxy; give it once')
  }
  if (typeof trustProxy === 'number') {
    throw new TypeError(`trustProxy must be true or the proxies' addresses or CIDRs, not a hop count (${String(trustProxy)}): ` +
      'a hop count cannot tell a proxy from a client that sends X-Forwarded-* itself, and Fastify ignores the forwarded ' +
      'host and scheme for it; give the proxy\'s address, e.g. trustProxy: \'10.0.0.5\'')
  }
  const list = typeof trustProxy === 'string' ? trustProxy.split(',').map((entry) => entry.trim()) : Array.isArray(trustProxy) ? trustProxy : undefined
  if (list !== undefined && (list.length === 0 || list.some((entry) => entry === ''))) {
    throw new TypeError(`trustProxy lists an empty address (${JSON.stringify(trustProxy)}); give the proxies' addresses or CIDRs, or true`)
  }
  return { trustProxy: (Array.isArray(trustProxy) ? [...trustProxy] : trustProxy) as FastifyServerOptions['trustProxy'] }
}
