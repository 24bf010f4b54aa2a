/**
 * Child process: the formcall Node client uploading the generated stream as an ordinary argument,
 * `api.sink(stream)`, to the formcall server. Its length is unknown to the client, as for any Readable.
 */
import { clientNodePackage } from '../support/packages.js'
import { GeneratedBytes, makeBlock } from '../support/generated-upload.js'
import type { BenchMethodsObject } from '../servers/methods.js'
import { readJob, reportUpload } from './upload-client.js'

const job = readJob()
const { createClient } = await clientNodePackage()
const api = createClient<BenchMethodsObject>(`http://127.0.0.1:${job.port}${job.path}`)
const file = new GeneratedBytes({ bytes: job.bytes, block: makeBlock(job.blockBytes) })

await reportUpload(async () => {
  const result = await api.sink(file)
  return { status: 200, text: JSON.stringify({ result }) }
})
