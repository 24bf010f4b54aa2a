/**
 * Child process: node:http + @fastify/busboy (the parser inside formcall's server), draining every file part with
 * `for await` like formcall's `sink` method, answering `{ bytes }`. A baseline: the parser with nothing around it.
 */
import type { Readable } from 'node:stream'
import { Busboy } from '@fastify/busboy'
import { listenHttp, sendJson } from './listen-http.js'

listenHttp((req, res) => {
  let bytes = 0
  const drains: Array<Promise<void>> = []
  const parser = Busboy({ headers: req.headers as typeof req.headers & { 'content-type': string } })
  parser.on('file', (_name: string, file: Readable) => {
    drains.push((async () => { for await (const chunk of file) bytes += (chunk as Buffer).length })())
  })
  parser.on('finish', () => {
    Promise.all(drains).then(() => sendJson(res, 200, { bytes }), (err: Error) => sendJson(res, 400, { error: err.message }))
  })
  parser.on('error', (err: Error) => sendJson(res, 400, { error: err.message }))
  req.pipe(parser)
})
