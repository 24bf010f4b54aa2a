import type { FastifyReply, FastifyRequest } from 'fastify'
import { isIP } from 'node:net'
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
  readonly #hosts: ReadonlySet<string>
  readonly #anyHost: boolean

  /**
   * @param allowedOrigins origins allowed besides the server's own; `*` for any
   * @param allowedHosts host names (no port) a browser may reach this server by; `true` for any
   */
  constructor (allowedOrigins: readonly string[], allowedHosts: readonly string[] | true = []) {
    this.#allowAny = allowedOrigins.includes('*')
    this.#allowed = new Set(allowedOrigins.map((origin) => origin.replace(/\/+$/, '').toLowerCase()))
    this.#anyHost = allowedHosts === true
    this.#hosts = new Set(allowedHosts === true ? [] : allowedHosts.map((host) => host.toLowerCase()))
  }

  /**
   * Why a browser request must be refused, or undefined when it may call: no `Origin` and no cross-site fetch
   * metadata (curl, servers, a typed URL), the server's own origin reached by an allowed host name, or an allowed
   * origin.
   */
  refusal (request: FastifyRequest): string | undefined {
    const origin = request.headers.origin
    if (origin === undefined) {
      // Browsers omit Origin on some requests (a GET from an <img> or a link); their fetch metadata still says where
      // the request came from.
      const site = request.headers['sec-fetch-site']
      if ((site === 'cross-site' || site === 'same-site') && !this.#allowAny) {
        return `a ${site} browser request without an Origin header is not allowed; send it from an allowed origin`
      }
      return undefined
    }
    if (this.#isAllowedCrossOrigin(origin)) return undefined
    if (!this.#isSameOrigin(request, origin)) {
      return `calls from origin "${origin.slice(0, 200)}" are not allowed; add it to the server's allowedOrigins` +
        (isForwarded(request) ? ` (the request came through a proxy and was taken to be for "${`${request.protocol}://${request.host}`.slice(0, 200)}"; ` +
          'a reverse proxy\'s X-Forwarded-Host and X-Forwarded-Proto count only when it connects from an address in trustProxy)' : '')
    }
    if (!this.#isAllowedHost(request.hostname)) {
      return `this server is not reached as "${request.hostname.slice(0, 200)}" by browsers it trusts; add the host ` +
        'to allowedHosts (this guards against DNS rebinding) or its origin to allowedOrigins'
    }
    return undefined
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
    if (this.refusal(request) !== undefined) return reply.code(403).send()
    this.decorate(request, reply)
    const requested = request.headers['access-control-request-headers']
    return reply.code(204)
      .header('access-control-allow-methods', 'POST, GET')
      .header('access-control-allow-headers', typeof requested === 'string' ? requested : 'Content-Type')
      .header('access-control-max-age', '600')
      .send()
  }

  /**
   * Whether `origin` is the request's own: its scheme and `Host`, or, from a proxy the server trusts (Fastify's
   * `trustProxy`), `X-Forwarded-Proto` and `X-Forwarded-Host` (Fastify's `request.protocol` and `request.host` read
   * them then, and only then). A default port is no port: `Host: x:80` is the origin `http://x`.
   */
  #isSameOrigin (request: FastifyRequest, origin: string): boolean {
    const scheme = origin.indexOf('://')
    if (scheme < 0) return false
    return canonicalOrigin(origin.slice(0, scheme), origin.slice(scheme + 3)) === canonicalOrigin(request.protocol, request.host)
  }

  /**
   * A page whose origin matches the Host header is the server's own only if that host name really is the server's:
   * a DNS-rebinding page (evil.example resolving to this server's address) also matches itself. Loopback names and
   * IP literals cannot be rebound; other names must be listed.
   */
  #isAllowedHost (hostname: string): boolean {
    if (this.#anyHost) return true
    const host = hostname.toLowerCase().replace(/^\[|\]$/g, '')
    return this.#hosts.has(host) || host === 'localhost' || host.endsWith('.localhost') || isIP(host) !== 0
  }

  #isAllowedCrossOrigin (origin: string): boolean {
    return this.#allowAny || this.#allowed.has(origin.toLowerCase())
  }
}

/** `scheme://host[:port]`, lower-cased, without the scheme's default port (80 for http, 443 for https). */
function canonicalOrigin (scheme: string, host: string): string {
  const lower = scheme.toLowerCase()
  const defaultPort = lower === 'http' ? ':80' : lower === 'https' ? ':443' : undefined
  let authority = host.toLowerCase()
  // `[::1]:80` ends with the port; `[::80]` does not (its last character is the bracket).
  if (defaultPort !== undefined && authority.endsWith(defaultPort)) authority = authority.slice(0, -defaultPort.length)
  return `${lower}://${authority}`
}

/** The request carries forwarding headers: it came through a proxy (trusted or not). */
function isForwarded (request: FastifyRequest): boolean {
  const { headers } = request
  return headers['x-forwarded-host'] !== undefined || headers['x-forwarded-proto'] !== undefined || headers['x-forwarded-for'] !== undefined
}
