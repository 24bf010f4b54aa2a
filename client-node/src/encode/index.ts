import { callJson, collectFiles, type CallParamsLike, type Classified, type FoundFile } from '@formcall/spec/client'
import { classifyFileLike, type FileValue } from './classify-file-like.js'
import { preparePart } from './prepare-part.js'
import { jsonBody, multipartBody, type RequestBody } from './build-body.js'
import { bindUploads, type BoundUpload } from './bind-uploads.js'
import type { UploadSources } from './upload-sources.js'

export { UploadSources } from './upload-sources.js'
export { pickResumable } from './pick-resumable.js'
export type { ResumableFile } from './pick-resumable.js'
export type { BoundUpload } from './bind-uploads.js'
export type { RequestBody } from './build-body.js'

/** A call to encode. */
export interface CallToEncode {
  method: string
  params: CallParamsLike | undefined
  id: number
}

/** A call whose files were taken out of its params: `{"$file": "fN"}` placeholders stand where they were. */
export interface CollectedCall {
  readonly call: CallToEncode
  /** The params, copied, with placeholders. */
  readonly params: unknown
  /** The files, in part order. */
  readonly files: ReadonlyArray<FoundFile<FileValue>>
}

/**
 * Takes the files out of a call's params (the shared params walk of `@formcall/spec/client`, with Node's own test
 * of what is a file, `classifyFileLike`) and hands the caller's streams to `sources` at once, so that a stream that
 * fails while the call is still getting ready (its resumable uploads running) is already watched.
 *
 * @example
 * ```ts
 * const sources = new UploadSources()
 * const collected = collectCall({ method: 'files.store', params: [{ file: fileFromPath('a.pdf') }], id: 1 }, sources)
 * collected.files[0]?.part // 'f0'
 * ```
 */
export function collectCall (call: CallToEncode, sources: UploadSources): CollectedCall {
  const { params, files } = collectFiles(call.params, classify)
  for (const { file, where, part } of files) {
    if (file.kind === 'node-stream') sources.add(file.stream, where, part)
  }
  return { call, params, files }
}

/**
 * Encodes a collected call as a request body: JSON when no file is left to send, else multipart with the files as
 * parts after the `json` field. Files already uploaded resumably (`uploads`, by part name) are bound by their
 * `$upload` placeholders instead and are not sent; the parts left are named `f0`, `f1`, … again.
 *
 * The returned promise waits only for `stat` of paths and `fs.ReadStream`s; the streams made here for paths,
 * Blobs and web streams join `sources`.
 *
 * @example
 * ```ts
 * const body = await encodeCall(collected, new Map(), sources)
 * body.contentType // 'multipart/form-data; boundary=…'
 * ```
 */
export async function encodeCall (collected: CollectedCall, uploads: ReadonlyMap<string, BoundUpload>, sources: UploadSources): Promise<RequestBody> {
  const bound = bindUploads(collected.params, uploads, collected.files.map((file) => file.part))
  const files = collected.files
    .filter((file) => !uploads.has(file.part))
    .map((file) => ({ ...file, part: bound.renamed.get(file.part) ?? file.part }))

  const json = callJson({ id: collected.call.id, method: collected.call.method, params: bound.params })
  if (files.length === 0) return jsonBody(json)

  const parts = await Promise.all(files.map(preparePart))
  // The caller's own streams were added by collectCall; add the ones made here for paths, Blobs and web streams.
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
