import http from 'node:http'
import https from 'node:https'

/**
 * The keep-alive agents every client shares unless given its own: successive calls reuse connections instead of
 * paying a TCP (and TLS) handshake each. Idle sockets do not keep the process alive, and Node drops them before the
 * server's advertised `Keep-Alive: timeout` runs out.
 *
 * @example
 * ```ts
 * const agent = defaultAgent(new URL('https://api.example.com/rpc')) // the shared https agent
 * ```
 */
export function defaultAgent (url: URL): http.Agent {
  if (url.protocol === 'https:') return (httpsAgent ??= new https.Agent({ keepAlive: true }))
  return (httpAgent ??= new http.Agent({ keepAlive: true }))
}

let httpAgent: http.Agent | undefined
let httpsAgent: https.Agent | undefined
