/**
 * Child process: a bare Fastify app with one `POST /rpc` route answering the same envelope formcall's `echo` gives.
 * It takes the call as a JSON body (Fastify's own parser) or as the `json` field of a multipart body (read with
 * @fastify/busboy, the parser formcall uses). The small-call baseline: Fastify's and the parser's own cost, without
 * formcall.
 */
import Fastify from 'fastify'
import { Busboy } from '@fastify/busboy'
import { serveChild } from './serve-child.js'

interface Call { id?: unknown, params?: unknown[] }

const app = Fastify()
app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
  let text: string | undefined
  const parser = Busboy({ headers: request.headers as typeof request.headers & { 'content-type': string } })
  parser.on('field', (name: string, value: string) => { if (name === 'json') text ??= value })
  parser.on('finish', () => {
    try {
      done(null, JSON.parse(text ?? 'null'))
    } catch (err) {
      done(err as Error)
    }
  })
  parser.on('error', (err: Error) => done(err))
  payload.pipe(parser)
})
app.post('/rpc', async (request) => {
  const call = request.body as Call
  return { jsonrpc: '2.0', id: call.id ?? null, result: call.params?.[0] ?? null }
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('the bare Fastify server has no TCP address')
serveChild(address.port, async () => { await app.close() })
