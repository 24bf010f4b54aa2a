/**
 * Run as a child process: a server that refuses every upload after 256 KiB the abrupt way, answering with a
 * LIMIT_EXCEEDED envelope and destroying the connection at once, unread bytes and all (the kernel then resets it).
 * A separate process, because only then do the answer and the reset arrive while the client is busy writing.
 * Sends its port to the parent over IPC.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

const envelope = JSON.stringify({
  jsonrpc: '2.0',
  id: null,
  error: { code: -32004, message: 'file part "f0" exceeded the 256 KiB limit (limits.fileSize)', data: { limit: 'fileSize', max: 262144 } }
})

const server = http.createServer((req, res) => {
  let read = 0
  req.on('data', (chunk: Buffer) => {
    read += chunk.length
    if (read > 256 * 1024 && !res.headersSent) {
      res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(envelope), connection: 'close' })
      res.end(envelope)
      req.socket.destroy()
    }
  })
})
server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port))
process.on('disconnect', () => process.exit(0))
