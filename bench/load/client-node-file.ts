/**
 * Child process: the formcall Node client uploading a file from disk, `api.sink(fileFromPath(path, options))`,
 * one-shot (a multipart part) or resumable (through the tus endpoint first, then bound with `$upload`). With `cut`,
 * the upload goes through a relay in this process that drops the connection once, when half the file has passed:
 * the one-shot upload then fails and is sent again whole, as a script would retry it; the resumable one resumes from
 * the offset the server acknowledged. The time of the run includes the loss.
 *
 * argv: the job (JSON), then `oneshot` or `resumable`, then optionally `cut`.
 */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { clientNodePackage, PACKAGES_ENV } from '../support/packages.js'
import { GeneratedBytes, makeBlock } from '../support/generated-upload.js'
import type { BenchMethodsObject } from '../servers/methods.js'
import { readJob, reportUpload } from './upload-client.js'

const job = readJob()
const resumable = process.argv[3] === 'resumable'
const cut = process.argv[4] === 'cut'
const { createClient, fileFromPath } = await clientNodePackage()

const path = await generatedFile(job.bytes, job.blockBytes)
const port = cut ? await cuttingRelay(job.port, job.bytes / 2) : job.port
// No `above`: only the file given `resumable: true` goes the resumable way.
const api = createClient<BenchMethodsObject>(`http://127.0.0.1:${port}${job.path}`,
  resumable ? { resumable: { retryDelays: [0, 100, 200, 400] } } : {})

await reportUpload(async () => {
  let result
  try {
    result = await api.sink(fileFromPath(path, { resumable }))
  } catch (err) {
    if (resumable || !cut) throw err
    // The one-shot upload lost its connection: the whole file goes again (the relay cuts only once).
    result = await api.sink(fileFromPath(path))
  }
  return { status: 200, text: JSON.stringify({ result }) }
})

/** The generated file of `bytes`, written once beside the installed packages (removed with them). */
async function generatedFile (bytes: number, blockBytes: number): Promise<string> {
  const file = join(process.env[PACKAGES_ENV] ?? '.', `upload-${bytes}.bin`)
  const existing = await stat(file).catch(() => undefined)
  if (existing?.size === bytes) return file
  const out = createWriteStream(file)
  new GeneratedBytes({ bytes, block: makeBlock(blockBytes) }).pipe(out)
  await finished(out)
  return file
}

/**
 * A relay to `target` that destroys the connection carrying the request bytes past `cutAfter` (counted over all its
 * connections: a resumable upload sends its file in several requests), once.
 */
async function cuttingRelay (target: number, cutAfter: number): Promise<number> {
  let cutDone = false
  let forwarded = 0
  const server = createServer((client: Socket) => {
    const upstream = connect(target, '127.0.0.1')
    const drop = (): void => { client.destroy(); upstream.destroy() }
    client.on('data', (chunk: Buffer) => {
      forwarded += chunk.length
      if (!cutDone && forwarded >= cutAfter) {
        cutDone = true
        drop()
      }
    })
    client.pipe(upstream).pipe(client)
    client.on('error', drop)
    upstream.on('error', drop)
    client.on('close', drop)
    upstream.on('close', drop)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  server.unref()
  return (server.address() as AddressInfo).port
}
