import { callJson, collectFiles, type CallParamsLike, type Classified } from '@formcall/spec/client'
import { classifyFileLike, type FileValue } from './classify-file-like.js'
import { preparePart } from './prepare-part.js'
import { jsonBody, multipartBody, type RequestBody } from './build-body.js'
import { UploadSources } from './upload-sources.js'

export { UploadSources } from './upload-sources.js'
export type { RequestBody } from './build-body.js'

/** A call to encode. */
export interface CallToEncode {
  method: string
  params: CallParamsLike | undefined
  id: number
}

/**
 * Encodes a call as a request body: JSON when params hold no file, else multipart with the files as parts after the
 * `json` field. The params walk and the call's JSON are the shared ones (`@formcall/spec/client`); what counts as a
 * file is Node's own (`classifyFileLike`).
 *
 * The files are found and their streams handed to `sources` before this function first waits, so a stream that
 * fails early is already watched. The returned promise waits only for `stat` of paths and `fs.ReadStream`s.
 *
 * @example
 * ```ts
 * const sources = new UploadSources()
 * const body = await encodeCall({ method: 'files.store', params: [{ file: fileFromPath('a.pdf') }], id: 1 }, sources)
 * body.contentType // 'multipart/form-data; boundary=…'
 * ```
 */
export async function encodeCall (call: CallToEncode, sources: UploadSources): Promise<RequestBody> {
  const { params, files } = collectFiles(call.params, classify)
  for (const { file, where, part } of files) {
    if (file.kind === 'node-stream') sources.add(file.stream, where, part)
  }

  const json = callJson({ id: call.id, method: call.method, params })
  if (files.length === 0) return jsonBody(json)

  const parts = await Promise.all(files.map(preparePart))
  // The caller's own streams were added above; add the ones made here for paths, Blobs and web streams.
  parts.forEach((part, i) => {
    if (!Buffer.isBuffer(part.body) && files[i]?.file.kind !== 'node-stream') sources.add(part.body, part.where, part.part)
  })
  return multipartBody(json, parts)
}

/** Node's file-like test, in the form the shared params walk takes. */
function classify (value: object): Classified<FileValue> {
  const file = classifyFileLike(value)
  return file === undefined ? undefined : { file }
}
