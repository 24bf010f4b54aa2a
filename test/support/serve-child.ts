// A formcall server in a process of its own, so a test can watch its memory. Usage:
//   node --import tsx test/support/serve-child.ts <tmpDir>
// Prints one JSON line {"url", "pid"} once listening; exits 0 on SIGTERM.
import { digestFile } from './bytes.js'
import { createServer } from '@formcall/server'

const tmpDir = process.argv[2]
if (tmpDir === undefined) throw new Error('usage: serve-child.ts <tmpDir>')

const app = createServer({
  methods: {
    echo: (value: unknown) => value,
    /** Size and SHA-256 of one file, hashed as it streams in. */
    digest: digestFile
  },
  tmpDir,
  limits: { fileSize: 4 * 1024 ** 3 },
  fastify: { logger: false }
})
const address = await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(JSON.stringify({ url: `${address}/rpc`, pid: process.pid }) + '\n')
process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0), () => process.exit(1))
})
