import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serveChild } from './serve-child.js'

/**
 * Serves `handler` with plain node:http on a free port of 127.0.0.1 as a bench server child. No request timeout,
 * like `createServer()` of formcall, so a slow large upload is not cut.
 */
export function listenHttp (handler: RequestListener): void {
  const server = createServer({ requestTimeout: 0 }, handler)
  server.listen(0, '127.0.0.1', () => {
    serveChild((server.address() as AddressInfo).port, async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
  })
}

/** Answers with a small JSON body. */
export function sendJson (res: Parameters<RequestListener>[1], status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
