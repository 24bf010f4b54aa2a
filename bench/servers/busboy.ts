/**
 * Child process: node:http + busboy 1.6 (mscdex), draining every file part with `for await` like formcall's `sink`
 * method, answering `{ bytes }`. A baseline: the most used multipart parser, with nothing around it.
 */
import busboy from 'busboy'
import { listenHttp, sendJson } from './listen-http.js'

listenHttp((req, res) => {
  let bytes = 0
  const drains: Array<Promise<void>> = []
  const parser = busboy({ headers: req.headers })
  parser.on('file', (_name, file) => {
    drains.push((async () => { for await (const chunk of file) bytes += (chunk as Buffer).length })())
  })
  parser.on('close', () => {
    Promise.all(drains).then(() => sendJson(res, 200, { bytes }), (err: Error) => sendJson(res, 400, { error: err.message }))
  })
  parser.on('error', (err: Error) => sendJson(res, 400, { error: err.message }))
  req.pipe(parser)
})
