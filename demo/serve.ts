/**
 * `pnpm start`: builds the demo pages with Vite and serves them at `/` beside the demo methods at `/rpc`, each call in
 * a pooled worker thread, with resumable uploads at `/rpc/uploads/`: the scripted page (`/`) and one that works with
 * JavaScript turned off (`/no-js.html`).
 *
 *   node --import tsx demo/serve.ts [--port 8080] [--host 127.0.0.1] [--uploads <dir>]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createServer, type CreateServerOptions } from '@formcall/server'
import { build } from 'vite'

const pageRoot = fileURLToPath(new URL('./page/', import.meta.url))
const pageDist = fileURLToPath(new URL('./dist/', import.meta.url))

/** Builds the demo pages (the scripted one and the no-JavaScript one) into `outDir` (default demo/dist). */
export async function buildPage (options: { outDir?: string } = {}): Promise<void> {
  await build({
    root: pageRoot,
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir: options.outDir ?? pageDist,
      emptyOutDir: true,
      // Vite builds only index.html unless told of the other pages.
      rolldownOptions: { input: { index: join(pageRoot, 'index.html'), noJs: join(pageRoot, 'no-js.html') } }
    }
  })
}

/** Options of {@link createDemoServer}: the server's, plus where the built pages are. */
export interface DemoServerOptions extends Partial<CreateServerOptions> {
  /** The built pages to serve at `/` (what `buildPage` wrote). Default demo/dist. */
  pageDir?: string
}

/**
 * The demo server: the demo methods at /rpc (each call in a worker), resumable uploads at /rpc/uploads/ (stored in
 * `options.uploads`, or in a private temp directory removed at close), the built pages at / (the server's `static`
 * option).
 */
export async function createDemoServer (options: DemoServerOptions = {}): Promise<ReturnType<typeof createServer>> {
  const { pageDir = pageDist, ...serverOptions } = options
  const ownUploads = serverOptions.uploads === undefined ? await mkdtemp(join(tmpdir(), 'formcall-demo-uploads-')) : undefined
  let app: ReturnType<typeof createServer>
  try {
    app = createServer({
      methodsModule: new URL('./methods.ts', import.meta.url),
      limits: { fileSize: 4 * 2 ** 30 },
      ...(ownUploads === undefined ? {} : { uploads: { directory: ownUploads } }),
      static: { root: pageDir },
      ...serverOptions
    })
  } catch (err) {
    // A page folder that is not there (the pages not built) is refused at once; the uploads folder goes with it.
    if (ownUploads !== undefined) await rm(ownUploads, { recursive: true, force: true })
    throw err
  }
  if (ownUploads !== undefined) app.addHook('onClose', async () => await rm(ownUploads, { recursive: true, force: true }))
  return app
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, uploads: { type: 'string' } }
  })
  await buildPage()
  const app = await createDemoServer(values.uploads === undefined ? {} : { uploads: { directory: values.uploads } })
  const address = await app.listen({ port: Number(values.port), host: values.host })
  console.log(`formcall demo on ${address}/ (without JavaScript: ${address}/no-js.html; methods at ${address}/rpc)`)
  const shutdown = (): void => { app.close().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}
