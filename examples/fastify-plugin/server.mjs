import Fastify from 'fastify'
import { formcall } from '@formcall/server'
import { methodsFor } from './methods.mjs'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 8080)

const notes = []
const app = Fastify({ logger: { level: 'warn' } })

// The app's own routes stay as they are.
app.get('/health', async () => ({ ok: true, notes: notes.length }))

// formcall adds POST /api/rpc (its content-type parsers and error handler apply to that path only). A `methods`
// object runs inline, on this thread; pass `methodsModule: './methods.mjs'` instead to run each call in a worker.
await app.register(formcall, { methods: methodsFor(notes), path: '/api/rpc' })

const address = await app.listen({ host, port })
console.log(`app listening on ${address} (GET /health, formcall at ${address}${app.formcall.path})`)

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
