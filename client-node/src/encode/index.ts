import { JSONRPC_VERSION, type CallEnvelope } from '@formcall/spec'
import type { CallParams } from '../types.js'
import { collectFiles } from './collect-files.js'
import { preparePart } from './prepare-part.js'
import { jsonBody, multipartBody, type RequestBody } from './build-body.js'
import { UploadSources } from './upload-sources.js'

export { UploadSources } from './upload-sources.js'
export type { RequestBody } from './build-body.js'

/** A call to encode. */
export interface CallToEncode {
  method: string
  params: CallParams | undefined
  id: number
}

/**
 * Encodes a call as a request body: JSON when params hold no file, else multipart with the files as parts after the
 * `json` field.
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
  const { params, files } = collectFiles(call.params)
  for (const { value, where, part } of files) {
    if (value.kind === 'node-stream') sources.add(value.stream, where, part)
  }

  const envelope: CallEnvelope = params === undefined
    ? { jsonrpc: JSONRPC_VERSION as '2.0', method: call.method, id: call.id }
    : { jsonrpc: JSONRPC_VERSION as '2.0', method: call.method, params: params as CallParams, id: call.id }
  const callJson = stringifyCall(envelope)
  if (files.length === 0) return jsonBody(callJson)

  const parts = await Promise.all(files.map(preparePart))
  // The caller's own streams were added above; add the ones made here for paths, Blobs and web streams.
  parts.forEach((part, i) => {
    if (!Buffer.isBuffer(part.body) && files[i]?.value.kind !== 'node-stream') sources.add(part.body, part.where, part.part)
  })
  return multipartBody(callJson, parts)
}

function stringifyCall (envelope: CallEnvelope): string {
  try {
    return JSON.stringify(envelope)
  } catch (err) {
    throw new TypeError(`the params of "${envelope.method}" cannot be sent as JSON: ${(err as Error).message}; ` +
      'convert BigInt and other non-JSON values before the call', { cause: err })
  }
}
