/**
 * Child process: the raw load client. Streams the generated multipart body (json part, then one file part of
 * generated blocks) into one node:http request with a Content-Length, and reports the time to the answer. Every
 * server of the upload table gets exactly these bytes from this client.
 */
import { request } from 'node:http'
import { makeBlock, multipartUpload } from '../support/generated-upload.js'
import { readJob, reportUpload, responseOf } from './upload-client.js'

const job = readJob()
const upload = multipartUpload({ bytes: job.bytes, block: makeBlock(job.blockBytes), callJson: job.callJson })

await reportUpload(async () => {
  const req = request({
    host: '127.0.0.1',
    port: job.port,
    path: job.path,
    method: 'POST',
    agent: false,
    headers: { 'content-type': upload.contentType, 'content-length': upload.contentLength }
  })
  const response = responseOf(req)
  upload.body.pipe(req)
  return await response
})
