import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { FormcallOptions } from './options.js'
import { formcall } from './plugin.js'

/** Options of {@link createServer}: the plugin's, plus Fastify's own under `fastify`. */
export interface CreateServerOptions extends FormcallOptions {
  /** Passed to `Fastify()` (logger, trustProxy, maxHeaderSize, …). */
  fastify?: FastifyServerOptions
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
  const { fastify: fastifyOptions, ...formcallOptions } = options
  const app = Fastify({
    // Uploads can take long; Node's 5-minute request timeout would cut a slow 20 GB upload.
    requestTimeout: 0,
    // Starting the workers and, at close, waiting for running calls (shutdownTimeout) both run inside Fastify's
    // plugin timeout; its 10 s default would fail a close that waits its full default 10 s.
    pluginTimeout: Math.max(60_000, (formcallOptions.shutdownTimeout ?? 10_000) + 10_000),
    // While closing, calls are answered by formcall itself: -32015 SHUTTING_DOWN in a JSON-RPC envelope.
    return503OnClosing: false,
    ...fastifyOptions
  })
  app.register(formcall, formcallOptions)
  return app
}
