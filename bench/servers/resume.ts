/**
 * Child process: node:http that reads and discards the whole body (a `data` listener, i.e. `req.resume()`) and
 * answers `{ bytes }` with the body's size. The ceiling: what node:http itself can take in on this machine.
 * Its `bytes` is the whole body (framing included), so the run checks it against the body size.
 */
import { listenHttp, sendJson } from './listen-http.js'

listenHttp((req, res) => {
  let bytes = 0
  req.on('data', (chunk: Buffer) => { bytes += chunk.length })
  req.on('end', () => sendJson(res, 200, { bytes }))
})
