import type { FastifyReply, FastifyRequest } from 'fastify'
import { DOWNLOAD_HEADER } from '@formcall/spec'

/**
 * Decides which browser origins may call, and writes the CORS headers for them.
 *
 * Written here rather than taken from @fastify/cors because the check must refuse calls, not only withhold headers:
 * multipart and urlencoded posts are "simple" requests that a browser sends cross-origin without a preflight, so
 * without a refusal any page could make a logged-in user's browser call methods. It is also scoped to the one
 * formcall path, where @fastify/cors would add a wildcard OPTIONS route to the whole app.
 */
export class OriginPolicy {
  readonly #allowAny: boolean
  readonly #allowed: ReadonlySet<string>

  constructor (allowedOrigins: readonly string[]) {
    this.#allowAny = allowedOrigins.includes('*')
    this.#allowed = new Set(allowedOrigins.map((origin) => origin.replace(/\/+$/, '').toLowerCase()))
  }

  /** True when the request carries no Origin, comes from the server's own origin, or from an allowed one. */
  allows (request: FastifyRequest): boolean {
    const origin = request.headers.origin
    if (origin === undefined) return true
    return this.#isSameOrigin(request, origin) || this.#isAllowedCrossOrigin(origin)
  }

  /** Adds `Access-Control-Allow-Origin` (and friends) for an allowed cross-origin request. */
  decorate (request: FastifyRequest, reply: FastifyReply): void {
    const origin = request.headers.origin
    reply.header('vary', 'Origin')
    if (origin === undefined || this.#isSameOrigin(request, origin) || !this.#isAllowedCrossOrigin(origin)) return
    reply.header('access-control-allow-origin', origin)
    reply.header('access-control-allow-credentials', 'true')
    reply.header('access-control-expose-headers', `Content-Disposition, Content-Length, ${DOWNLOAD_HEADER}`)
  }

  /** Answers a preflight: 204 with the allowance for allowed origins, 403 otherwise. */
  preflight (request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (!this.allows(request)) return reply.code(403).send()
    this.decorate(request, reply)
    const requested = request.headers['access-control-request-headers']
    return reply.code(204)
      .header('access-control-allow-methods', 'POST, GET')
      .header('access-control-allow-headers', typeof requested === 'string' ? requested : 'Content-Type')
      .header('access-control-max-age', '600')
      .send()
  }

  #isSameOrigin (request: FastifyRequest, origin: string): boolean {
    return origin.toLowerCase() === `${request.protocol}://${request.host}`.toLowerCase()
  }

  #isAllowedCrossOrigin (origin: string): boolean {
    return this.#allowAny || this.#allowed.has(origin.toLowerCase())
  }
}
