/**
 * Child process: the raw load client. Sends the multipart body (json part, then one file part of generated
 * blocks) in one node:http request with a Content-Length, and reports the time to the answer. Every server of the
 * upload table gets exactly these bytes from this client.
 *
 * It must cost as little CPU as it can, or it becomes the ceiling of the rows it measures (on 2 cores it takes CPU
 * the server would otherwise get). So nothing is generated while it sends: the file's bytes are one preallocated
 * buffer of repeated blocks (`writeBytes`, 1 MiB), written again and again straight into the request, with a
 * highWaterMark of several such writes so they queue and leave as one writev while the socket is busy. That is 16
 * times fewer writes than a stream of 64 KiB blocks, and no stream between buffer and socket.
 */
import { once } from 'node:events'
import { request, type ClientRequest, type RequestOptions } from 'node:http'
import { BOUNDARY, makeBlock, repeatedBlock, uploadFraming } from '../support/generated-upload.js'
import { readJob, reportUpload, responseOf } from './upload-client.js'

const job = readJob()
const { head, tail } = uploadFraming(job.callJson)
const run = repeatedBlock(makeBlock(job.blockBytes), job.writeBytes)

await reportUpload(async () => {
  // Node (20.1 on) gives a request's highWaterMark to the request and to its socket; @types/node 20 does not list it.
  const options: RequestOptions & { highWaterMark: number } = {
    host: '127.0.0.1',
    port: job.port,
    path: job.path,
    method: 'POST',
    agent: false,
    highWaterMark: job.highWaterMark,
    headers: {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-length': head.length + job.bytes + tail.length
    }
  }
  const req = request(options)
  const response = responseOf(req)
  const [answer] = await Promise.all([response, writeBody(req, response)])
  return answer
})

/** Writes head, file and tail; stops writing when the server answers before the end (the row then fails its count). */
async function writeBody (req: ClientRequest, response: Promise<unknown>): Promise<void> {
  let answered = false
  const settled = response.then(() => { answered = true }, () => { answered = true })
  req.write(head)
  for (let left = job.bytes; left > 0 && !answered;) {
    const size = Math.min(left, run.length)
    left -= size
    if (!req.write(size === run.length ? run : run.subarray(0, size))) await Promise.race([once(req, 'drain'), settled])
  }
  if (!answered) req.end(tail)
}
