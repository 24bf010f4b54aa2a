import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A running test site. */
export interface TestSite {
  /** `http://127.0.0.1:<port>`: the page's origin. */
  origin: string
  /** The formcall endpoint, same origin as the page. */
  rpcUrl: string
  close: () => Promise<void>
}

/** The page every browser test starts from: the client on `window.formcall`, and a form for `fromForm`. */
const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>formcall browser client tests</title>
<form id="profile">
  <input name="name">
  <input type="file" name="photos" multiple>
  <input type="file" name="avatar">
  <input type="checkbox" name="tags" value="a">
  <input type="checkbox" name="tags" value="b">
</form>
<script type="module">
  import * as formcall from '/formcall.js'
  window.formcall = formcall
</script>
</html>
`

/** What a misconfigured proxy in front of the endpoint might answer. */
const PROXY_ERROR_PAGE = '<html><body><h1>502 Bad Gateway</h1><p>upstream closed the connection</p></body></html>'

/**
 * Serves the test page, the client bundle at `/formcall.js`, and hands `POST /rpc` to `handleRpc`, all on one
 * origin on 127.0.0.1. `handleRpc` is any node:http handler: the stand-in here, or a real formcall server's.
 * `/proxy-error` answers 502 with an HTML page, as a proxy would.
 *
 * @example
 * ```ts
 * const site = await startTestSite({ bundle: await buildBrowserBundle(), handleRpc: createStandInRpc().handle })
 * await page.goto(site.origin)
 * ```
 */
export async function startTestSite (options: {
  bundle: string
  handleRpc: (req: IncomingMessage, res: ServerResponse) => void
}): Promise<TestSite> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/rpc') {
      options.handleRpc(req, res)
    } else if (path === '/') {
      send(res, 200, 'text/html; charset=utf-8', PAGE)
    } else if (path === '/formcall.js') {
      send(res, 200, 'text/javascript; charset=utf-8', options.bundle)
    } else if (path === '/proxy-error') {
      req.resume()
      send(res, 502, 'text/html; charset=utf-8', PROXY_ERROR_PAGE)
    } else {
      send(res, 404, 'text/plain; charset=utf-8', 'not found')
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  return {
    origin,
    rpcUrl: `${origin}/rpc`,
    close: async () => {
      // Calls the stand-in holds open would otherwise keep close() waiting.
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((err) => { if (err) reject(err); else resolve() }))
    }
  }
}

function send (res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' })
  res.end(body)
}
