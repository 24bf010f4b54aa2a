import { Readable } from 'node:stream'
import FormData from 'form-data'
import { CALL_FIELD } from '@formcall/spec'
import type { FilePart } from './prepare-part.js'

/** A request body ready to send. */
export interface RequestBody {
  /** The `Content-Type` header, with the multipart boundary when there are parts. */
  contentType: string
  /** The size in bytes, when every part's size is known (then sent with `Content-Length`), else `null` (chunked). */
  length: number | null
  /** One buffer for a JSON call; a stream for a multipart one, which reads each file only when its part is due. */
  payload: Buffer | Readable
}

/**
 * The body of a call without files: the call as `application/json`.
 *
 * @example
 * ```ts
 * jsonBody('{"jsonrpc":"2.0","method":"echo","params":["hi"],"id":1}').length // 57
 * ```
 */
export function jsonBody (callJson: string): RequestBody {
  const payload = Buffer.from(callJson)
  return { contentType: 'application/json', length: payload.length, payload }
}

/**
 * The body of a call with files: `multipart/form-data` whose first part is the field `json` holding the call, then
 * one part per file in order. A part without a declared type gets one guessed from its filename's extension by the
 * encoder (`form-data`, through `mime-types`), else `application/octet-stream`.
 *
 * @example
 * ```ts
 * const body = multipartBody(callJson, [{ part: 'f0', where: 'params[0]', filename: 'a.txt', type: undefined, size: 2, body: Buffer.from('hi') }])
 * body.contentType // 'multipart/form-data; boundary=--------------------------…'
 * ```
 */
export function multipartBody (callJson: string, parts: readonly FilePart[]): RequestBody {
  const form = new FormData()
  form.append(CALL_FIELD, callJson)
  for (const { part, filename, type, size, body } of parts) {
    const options: FormData.AppendOptions = { filename }
    if (type !== undefined) options.contentType = type
    if (size !== null && !Buffer.isBuffer(body)) options.knownLength = size
    form.append(part, body, options)
  }
  return {
    contentType: `multipart/form-data; boundary=${form.getBoundary()}`,
    length: parts.every((p) => p.size !== null) ? form.getLengthSync() : null,
    payload: toReadable(form)
  }
}

/**
 * Source chunks the body stream holds while the socket is busy (about 1 MiB of a file stream's 64 KiB chunks), which
 * the writer then sends as one piece (see `writeBody`). Held one by one, not joined: the stream costs no copy.
 */
export const BODY_BUFFERED_CHUNKS = 16

/**
 * form-data is an old-style stream (it starts on `resume()` and only knows `pause()`/`resume()`); this adapts it to
 * a modern Readable with backpressure, started on the first read so nothing is opened before the request is. It
 * yields Buffers one source chunk at a time (object mode), holding up to {@link BODY_BUFFERED_CHUNKS}.
 */
function toReadable (form: FormData): Readable {
  let started = false
  let paused = false
  const out = new Readable({
    objectMode: true,
    highWaterMark: BODY_BUFFERED_CHUNKS,
    read () {
      if (!started) {
        started = true
        form.resume()
      } else if (paused) {
        paused = false
        form.resume()
      }
    },
    destroy (err, callback) {
      form.destroy()
      callback(err)
    }
  })
  form.on('data', (chunk: Buffer | string) => {
    if (!out.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk) && !paused) {
      paused = true
      form.pause()
    }
  })
  form.once('end', () => out.push(null))
  form.once('error', (err: Error) => out.destroy(err))
  return out
}
