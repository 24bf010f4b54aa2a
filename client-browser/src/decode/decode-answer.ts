import { DOWNLOAD_HEADER } from '@formcall/spec'
import { TransportError } from '../errors.js'
import type { HttpAnswer } from '../send/index.js'
import { readDownload } from './read-download.js'
import { readEnvelope } from './read-envelope.js'

/**
 * Turns an HTTP answer into the call's outcome: a `DownloadedBlob` when the server marked the body as a download,
 * else the envelope's result (or its `RpcError`).
 *
 * @example
 * ```ts
 * const result = await decodeAnswer(answer, { id: 1, method: 'echo' })
 * ```
 */
export async function decodeAnswer (answer: HttpAnswer, call: { id: number; method: string }): Promise<unknown> {
  if (answer.header(DOWNLOAD_HEADER) !== null) {
    if (answer.status !== 200) {
      throw new TransportError('protocol', `call "${call.method}" got a download with HTTP ${answer.status}; downloads are answered with 200`, { status: answer.status })
    }
    return readDownload(answer)
  }
  return readEnvelope(await answer.body.text(), answer.status, call, answer.header('content-type'))
}
