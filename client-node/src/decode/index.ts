import { DOWNLOAD_HEADER, filenameFromContentDisposition } from '@formcall/spec'
import { decodeEnvelope } from '@formcall/spec/client'
import type { CallScope, Exchange } from '../send/index.js'
import { CheckedBody } from './checked-body.js'
import { DownloadedFile } from './downloaded-file.js'
import { readBody } from './read-body.js'

export { DownloadedFile } from './downloaded-file.js'

/** Largest body read from a response that does not say it is JSON (a proxy's error page): enough to quote it. */
const NON_JSON_READ_LIMIT = 64 * 1024

/** The call a response answers. */
export interface DecodeContext {
  /** The id the call was sent with. */
  id: number
  /** Names the call in error messages. */
  label: string
}

/**
 * Turns a response into the call's outcome: a `DownloadedFile` for a download (`X-Formcall-Download`), else the
 * body decoded by the rule both clients share (`decodeEnvelope`, PROTOCOL.md 5.7): the `result` of an envelope that
 * answers this call, or a rejection with its `RpcError` or a `TransportError`, whatever the HTTP status.
 *
 * A download resolves as soon as its headers arrive; its body streams afterwards, still under the call's signals
 * (the timeout stops here, as a large file may legitimately take long) and the upload keeps going, since the method
 * may be streaming its answer from it. An envelope, on the other hand, is final: the upload stops at once.
 *
 * @example
 * ```ts
 * const outcome = await decodeResponse(exchange, scope, { id: 7, label: 'call "files.get"' })
 * ```
 */
export async function decodeResponse (exchange: Exchange, scope: CallScope, context: DecodeContext): Promise<unknown> {
  const { response } = exchange
  const status = response.statusCode ?? 0
  const contentType = response.headers['content-type']

  if (response.headers[DOWNLOAD_HEADER] !== undefined && status >= 200 && status < 300) {
    scope.stopTimer()
    const length = response.headers['content-length']
    const size = length !== undefined && /^\d+$/.test(length) ? Number(length) : null
    const filename = filenameFromContentDisposition(response.headers['content-disposition'])
    const label = `the download${filename === null ? '' : ` "${filename}"`} from ${context.label}`
    const stream = new CheckedBody(response, {
      expected: size,
      signal: scope.signal,
      label,
      onClose: () => {
        scope.dispose()
        void exchange.close()
      }
    })
    return new DownloadedFile({ filename, type: contentType ?? 'application/octet-stream', size, stream })
  }

  exchange.stopUpload()
  try {
    const jsonish = contentType !== undefined && /\bjson\b/i.test(contentType)
    const { text, complete } = await readBody(response, {
      limit: jsonish ? Infinity : NON_JSON_READ_LIMIT,
      signal: scope.signal,
      label: context.label
    })
    return decodeEnvelope(text, { label: context.label, id: context.id, status, contentType, complete })
  } finally {
    scope.dispose()
    await exchange.close()
  }
}
