import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import type { Rolldown } from 'vite'

/**
 * A bare page that puts the browser client on `window.formcall`, for tests that call methods from code
 * (`page.evaluate`) rather than through the demo page's controls. `bundle` is served beside it as `formcall.js`.
 */
export const CLIENT_PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>formcall client</title>
<script type="module">
  import * as formcall from './formcall.js'
  window.formcall = formcall
</script>
</html>
`

/**
 * Builds `@formcall/client-browser` as one self-contained ES module (with `@formcall/spec` bundled in: a page has no
 * module resolver), not minified so stack traces stay readable.
 *
 * @example
 * ```ts
 * const bundle = await buildClientBundle()
 * ```
 */
export async function buildClientBundle (): Promise<string> {
  const entry = fileURLToPath(import.meta.resolve('@formcall/client-browser'))
  const result = await build({
    configFile: false,
    logLevel: 'warn',
    build: { lib: { entry, formats: ['es'], fileName: 'formcall' }, write: false, minify: false, target: 'es2022' }
  })
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[]
  const chunk = outputs[0]?.output.find((file) => file.type === 'chunk')
  if (chunk === undefined || chunk.type !== 'chunk') throw new Error('the Vite build produced no JavaScript chunk')
  return chunk.code
}

/** A site of its own origin that serves only the client page. */
export interface ClientSite {
  /** `http://127.0.0.1:<port>`. */
  origin: string
  /** The client page's URL. */
  pageUrl: string
  close: () => Promise<void>
}

/**
 * Serves the client page at `/` and the bundle at `/formcall.js` from a node:http server on 127.0.0.1 with a port of
 * its own: a second origin, for cross-origin calls to a formcall server.
 *
 * @example
 * ```ts
 * const site = await startClientSite(await buildClientBundle())
 * const page = await browser.openPage(site.pageUrl)
 * ```
 */
export async function startClientSite (bundle: string): Promise<ClientSite> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const [status, type, body] = path === '/'
      ? [200, 'text/html; charset=utf-8', CLIENT_PAGE]
      : path === '/formcall.js'
        ? [200, 'text/javascript; charset=utf-8', bundle]
        : [404, 'text/plain; charset=utf-8', 'not found']
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    pageUrl: `${origin}/`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((err) => { if (err) reject(err); else resolve() }))
    }
  }
}
