#!/usr/bin/env node
// Usage: node upload.mjs [--resumable] <endpoint-url> <file> [method]
// Streams <file> to <method> (default files.digest, as in ../cli-server) and prints the progress and the answer.
// With --resumable the file first goes to the server's tus endpoint (a server started with --uploads), resuming
// after dropped connections, and the call binds it.
import { stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { createClient, fileFromPath, RpcError, TransportError } from '@formcall/client-node'

const args = process.argv.slice(2)
const resumable = args[0] === '--resumable'
const [url, path, method = 'files.digest'] = resumable ? args.slice(1) : args
if (url === undefined || path === undefined) {
  console.error('usage: node upload.mjs [--resumable] <endpoint-url> <file> [method]   e.g. node upload.mjs http://127.0.0.1:8080/rpc ./big.iso')
  process.exit(2)
}

const { size } = await stat(path)
console.log(`uploading ${basename(path)} (${size} bytes) to ${url} ${method}${resumable ? ', resumably' : ''}`)

const api = createClient(url)
let shownTenth = -1
const started = performance.now()
try {
  // fileFromPath opens the file only when its part is sent and streams it: memory stays flat for any size.
  // Size-known parts also let the client send Content-Length, so the server can refuse an oversized upload at once.
  const result = await api
    .$with({
      onUploadProgress: ({ loaded, total }) => {
        // total is null only for a body of unknown length (a stream), never for a file from disk.
        const percent = total === null ? 0 : Math.floor((loaded / total) * 100)
        // One line per tenth; the last event always has loaded === total, so 100% is always printed.
        if (Math.floor(percent / 10) > shownTenth) {
          shownTenth = Math.floor(percent / 10)
          console.log(`progress ${percent}% (${loaded} of ${total ?? '?'} bytes)`)
        }
      }
    })
    .$call(method, [fileFromPath(path, { resumable })])
  const seconds = (performance.now() - started) / 1000
  console.log(`done in ${seconds.toFixed(1)} s (${(size / 2 ** 20 / seconds).toFixed(0)} MiB/s)`)
  console.log(`result ${JSON.stringify(result)}`)
  if (typeof result?.sha256 === 'string') console.log(`sha256 ${result.sha256}`)
} catch (err) {
  if (err instanceof RpcError) console.error(`the server refused the call: ${err.codeName} (${err.code}): ${err.message}`)
  else if (err instanceof TransportError) console.error(`no answer from the server (${err.kind}): ${err.message}`)
  else throw err
  process.exitCode = 1
}
