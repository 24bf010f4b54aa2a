// The server under fuzz, in a process of its own so that a crash shows as this process exiting. Usage:
//   node --import tsx test/fuzz/fuzz-server.ts <inline|worker> <tmpDir>
// Prints one JSON line {"url", "pid"} once listening; exits 0 on SIGTERM.
// FORMCALL_FUZZ_SERVER names another module to fuzz instead of @formcall/server (its compiled dist/index.js, or a
// patched copy of server/src/index.ts, to check a fix).
import type { CreateServerOptions } from '@formcall/server'
import methods from './fuzz-methods.js'

const { createServer } = await import(process.env.FORMCALL_FUZZ_SERVER ?? '@formcall/server') as typeof import('@formcall/server')

const [mode, tmpDir] = process.argv.slice(2)
if ((mode !== 'inline' && mode !== 'worker') || tmpDir === undefined) throw new Error('usage: fuzz-server.ts <inline|worker> <tmpDir>')

/** Small limits, so mutated sizes cross them; short timeouts, so truncated or stalled bodies are answered quickly. */
const common: CreateServerOptions = {
  tmpDir,
  limits: {
    callSize: 256 * 1024,
    fileSize: 512 * 1024,
    files: 16,
    parts: 64,
    fieldSize: 64 * 1024,
    partHeaderSize: 8 * 1024,
    spoolSize: 2 * 1024 * 1024,
    batchSize: 10
  },
  // Resumable uploads too, beside the spool directory (the campaign counts what is left in that one): the tus
  // endpoint and the `$upload` placeholder are inputs like the rest.
  uploads: { directory: `${tmpDir}.uploads`, maxSize: 1024 * 1024, maxUploads: 64, minFreeSpace: 0, secret: 'the fuzz servers\' upload token secret' },
  bodyTimeout: 1000,
  idleUploadTimeout: 1000,
  headersTimeout: 2000,
  shutdownTimeout: 1000,
  fastify: { logger: process.env.FORMCALL_FUZZ_LOG === '1' ? { level: 'debug' } : false }
}
const app = createServer(mode === 'inline'
  ? { ...common, methods }
  : { ...common, methodsModule: new URL('./fuzz-methods.ts', import.meta.url), workers: 2, maxQueue: 64, callTimeout: 3000 })
// Node checks headersTimeout only every connectionsCheckingInterval (30 s by default); read before listen().
;(app.server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = 250
const address = await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(JSON.stringify({ url: `${address.replace('localhost', '127.0.0.1')}/rpc`, pid: process.pid }) + '\n')
process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0), () => process.exit(1))
})
