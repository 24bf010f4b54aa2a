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
  const { fastify: fastifyOptions, headersTimeout = 30_000, maxConnections = 4096, ...formcallOptions } = options
  const app = Fastify({
    // Uploads can take long; Node's 5-minute request timeout would cut a slow 20 GB upload. Bodies are bounded by
    // formcall's bodyTimeout and idleUploadTimeout instead.
    requestTimeout: 0,
    // Starting the workers and, at close, waiting for running calls (shutdownTimeout) both run inside Fastify's
    // plugin timeout; its 10 s default would fail a close that waits its full default 10 s.
    pluginTimeout: Math.max(60_000, (formcallOptions.shutdownTimeout ?? 10_000) + 10_000),
    // While closing, calls are answered by formcall itself: -32015 SHUTTING_DOWN in a JSON-RPC envelope.
    return503OnClosing: false,
    ...fastifyOptions
  })
  // Bodies have their own bounds (bodyTimeout for a call's JSON, idleUploadTimeout for files); Node's
  // requestTimeout, which would also cut long uploads, stays off.
  app.server.headersTimeout = headersTimeout
  app.server.maxConnections = maxConnections
  app.register(formcall, formcallOptions)
  return app
}
