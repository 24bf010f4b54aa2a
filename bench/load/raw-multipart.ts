/**
 * Child process: the raw load client. Streams the generated multipart body (json part, then one file part of
 * generated blocks) into one node:http request with a Content-Length, and reports the time to the answer. Every
 * server of the upload table gets exactly these bytes from this client.
 */
import { makeBlock, multipartUpload } from '../support/generated-upload.js'
import { postUpload, readJob, reportUpload } from './upload-client.js'

const job = readJob()
const upload = multipartUpload({ bytes: job.bytes, block: makeBlock(job.blockBytes), callJson: job.callJson })

await reportUpload(async () => {
  return await postUpload(job, { 'content-type': upload.contentType, 'content-length': upload.contentLength }, upload.body)
})
