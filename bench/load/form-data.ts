/**
 * Child process: the `form-data` package piped into `http.request`, the usual way to upload from Node without a
 * formcall client. The file part is the same generated stream the client-node row sends, with its length declared
 * (`knownLength`) so the request has a Content-Length.
 */
import FormData from 'form-data'
import { FILE_PART, GeneratedBytes, makeBlock } from '../support/generated-upload.js'
import { postUpload, readJob, reportUpload } from './upload-client.js'

const job = readJob()
const file = new GeneratedBytes({ bytes: job.bytes, block: makeBlock(job.blockBytes) })

await reportUpload(async () => {
  const form = new FormData()
  form.append('json', job.callJson)
  form.append(FILE_PART, file, { filename: 'upload.bin', contentType: 'application/octet-stream', knownLength: job.bytes })
  return await postUpload(job, { ...form.getHeaders(), 'content-length': form.getLengthSync() }, form)
})
