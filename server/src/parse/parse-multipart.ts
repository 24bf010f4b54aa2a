import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy'
import { CALL_FIELD_NAMES, ErrorCode, RpcError } from '@formcall/spec'
import type { Limits } from '../options.js'
import type { FileInfo } from './part-info.js'
import { ByteLimit } from './byte-limit.js'
import { limitError, mapMultipartError } from './multipart-errors.js'
import { PART_HIGH_WATER_MARK } from './part-buffer.js'
import { PartHeaderMeter } from './part-header-meter.js'

/** What the multipart parser reports, in body order. */
export interface MultipartHandlers {
  /** The `json` part, read whole (within `limits.callSize`). */
  onCall (text: string): void
  /** Each later part, as a stream that ends only with the part's closing boundary. */
  onPart (stream: Readable, info: FileInfo): void
  /** The closing boundary arrived: the body is complete. */
  onEnd (): void
  /** The body is broken or over a limit; nothing more will be reported. */
  onError (err: RpcError): void
}

/** A running parse. */
export interface MultipartParse {
  /** Stops reading the request (after a failure or a response sent early). */
  stop (): void
}

/**
 * Streams a multipart request through busboy: the first part must be `json`; every later part is reported as a
 * stream while it arrives, with backpressure to the socket. busboy caps each part at the largest per-part limit and
 * counts `parts`; the rest (each part's own size limit, `files`, `partHeaderSize`) are counted here.
 *
 * Once the `json` part is complete, it is reported before anything that comes after it, failures included, so that
 * every error after it can carry the call's id.
 *
 * @example
 * ```ts
 * parseMultipart(request.raw, request.headers, limits, { onCall, onPart, onEnd, onError })
 * ```
 */
export function parseMultipart (
  req: IncomingMessage,
  headers: IncomingHttpHeaders,
  limits: Limits,
  handlers: MultipartHandlers
): MultipartParse {
  let done = false
  let sawCall = false
  let files = 0
  let busboy: BusboyInstance | undefined
  /** Reports the `json` part at once, once busboy is past it (its end is only queued then). */
  let flushCall = (): void => {}
  /**
   * The `json` part read as a text field: busboy reports a field only once its end is parsed, which can be a tick
   * after a failure found later in the body; such a failure waits for the call (`held`), so that it carries its id.
   */
  let callField: 'no' | 'reading' | 'reported' = 'no'
  let held: unknown

  const fail = (err: unknown): void => {
    if (done) return
    if (callField === 'reading' && meter?.pastFirstPart === true) {
      if (held === undefined) setImmediate(releaseHeld)
      held ??= err
      stop()
      return
    }
    done = true
    stop()
    handlers.onError(mapMultipartError(err))
  }
  const releaseHeld = (): void => {
    callField = 'reported'
    if (held !== undefined) fail(held)
  }
  // busboy cuts a part's headers past its headerSize silently, so they are measured as busboy reads them (see
  // PartHeaderMeter), and the limit is enforced after each chunk busboy parsed, so that a part busboy reported in
  // between has flushed the `json` part and the failure carries the call's id.
  let meter: PartHeaderMeter | undefined
  const enforce = (): void => {
    const part = meter?.exceeded
    if (part !== undefined) fail(limitError('partHeaderSize', limits.partHeaderSize, `the headers of part ${part}`))
  }
  // The body is fed to busboy by hand rather than piped: one listener instead of pipe's seven per request.
  const feed = (chunk: Buffer): void => {
    try {
      if (busboy?.write(chunk) === false) req.pause()
      enforce()
    } catch (err) {
      fail(err)
    }
  }
  const drained = (): void => { if (!done && held === undefined) req.resume() }
  const ended = (): void => { busboy?.end() }
  const stop = (): void => {
    req.off('data', feed)
    req.off('end', ended)
    busboy?.off('drain', drained)
    req.pause()
  }

  const partCap = Math.max(limits.fileSize, limits.callSize, limits.fieldSize)
  let firstPart = true
  try {
    busboy = Busboy({
      headers: headers as IncomingHttpHeaders & { 'content-type': string },
      // Every part is read as a stream, text fields too (a placeholder may point at a text part), but for the `json`
      // part as every form and client sends it: a text field, read whole by busboy. A stream for it cost a small call
      // a quarter of its time. Sent as a file (`curl -F json=@call.json`), or with headers busboy could decode in
      // another charset, it is a stream like any part.
      isPartAFile: (_name: string | undefined, _type: string | undefined, filename: string | undefined) => {
        if (!firstPart) return true
        firstPart = false
        if (filename !== undefined || meter?.firstPartPlain !== true) return true
        callField = 'reading'
        return false
      },
      highWaterMark: PART_HIGH_WATER_MARK,
      fileHwm: PART_HIGH_WATER_MARK,
      // busboy has one size cap for every part, but each kind of part has its own limit: busboy's cap is the
      // largest of them, and each part's own limit is counted below (and named when busboy's cap is the one hit).
      limits: {
        fileSize: partCap,
        // Only the `json` part is ever a field; busboy marks it truncated past this.
        fieldSize: limits.callSize,
        parts: limits.parts,
        // Just above partHeaderSize, which is measured inside busboy's header parser (see above).
        headerSize: PartHeaderMeter.busboyHeaderSize(limits.partHeaderSize),
        fieldNameSize: 1024
      }
    })
    meter = new PartHeaderMeter(busboy, limits.partHeaderSize)
  } catch (err) {
    queueMicrotask(() => fail(err))
    return { stop () {} }
  }

  // Every handler busboy calls runs on the main thread inside an event: an exception escaping one would end the
  // process. Each is guarded so that a throw fails this request only.
  const guarded = <A extends unknown[]>(handler: (...args: A) => void) => (...args: A): void => {
    try {
      handler(...args)
    } catch (err) {
      fail(err)
    }
  }

  let partCount = 0
  /** Whether busboy's latest part may be read: its headers within the limit, and a name. Fails the body if not. */
  const admitted = (name: string | undefined): name is string => {
    // The meter measured this part's block before busboy reported it: a part must not reach the method with its
    // headers cut (nor one after such a part, in the same chunk).
    if (meter?.exceeded !== undefined) {
      enforce()
      return false
    }
    if (typeof name !== 'string' || name === '') {
      fail(new RpcError(ErrorCode.INVALID_REQUEST,
        `part ${partCount} has no name: each part needs a Content-Disposition header with name="…" (RFC 7578)`))
      return false
    }
    return true
  }
  const notCallPart = (name: string): RpcError => new RpcError(ErrorCode.INVALID_REQUEST,
    `the first part is "${name.slice(0, 100)}" but must be "json", holding the call {"method": ..., "params": ...}`)

  busboy.on('field', guarded((name: string | undefined, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
    // Only ever the first part (see isPartAFile).
    partCount++
    callField = 'reported'
    if (done) return
    sawCall = true
    if (!admitted(name)) return
    if (!CALL_FIELD_NAMES.includes(name)) fail(notCallPart(name))
    else if (valueTruncated) fail(limitError('callSize', limits.callSize, 'the "json" part'))
    else handlers.onCall(value)
    releaseHeld()
  }))
  busboy.on('file', guarded((name: string | undefined, part: BusboyFileStream, filename: string | undefined, _encoding: string, mimeType: string) => {
    partCount++
    if (done || held !== undefined) {
      part.resume()
      return
    }
    flushCall()
    part.on('error', fail)
    if (!admitted(name)) {
      part.resume()
      return
    }
    if (!sawCall) {
      sawCall = true
      if (!CALL_FIELD_NAMES.includes(name)) {
        part.resume()
        fail(notCallPart(name))
        return
      }
      part.on('limit', () => fail(limitError('callSize', limits.callSize, 'the "json" part')))
      flushCall = readCallPart(part, limits.callSize, guarded((text: string) => { if (!done) handlers.onCall(text) }), fail)
      return
    }
    const isFile = filename !== undefined
    if (isFile && ++files > limits.files) {
      part.resume()
      fail(limitError('files', limits.files, `file part ${files} ("${name.slice(0, 100)}")`))
      return
    }
    const sizeError = isFile
      ? () => limitError('fileSize', limits.fileSize, `file part "${name.slice(0, 100)}"`, { part: name })
      : () => limitError('fieldSize', limits.fieldSize, `text part "${name.slice(0, 100)}"`, { part: name })
    part.on('limit', () => fail(sizeError()))
    const info: FileInfo = {
      field: name,
      filename: isFile ? decodeFormFilename(filename) : null,
      type: isFile ? krpcTypeRepaired(mimeType) : (mimeType === 'text/plain' ? 'text/plain;charset=utf-8' : mimeType)
    }
    const max = isFile ? limits.fileSize : limits.fieldSize
    if (max >= partCap) {
      // busboy's cap is this part's limit: its 'limit' event above fails the part, no counter needed.
      handlers.onPart(part, info)
    } else {
      const limited = part.pipe(ByteLimit.of(max, sizeError))
      limited.on('error', fail)
      handlers.onPart(limited, info)
    }
  }))
  busboy.on('partsLimit', () => {
    flushCall()
    fail(limitError('parts', limits.parts, 'the number of parts'))
  })
  busboy.on('error', fail)
  busboy.on('finish', guarded(() => {
    if (done) return
    flushCall()
    if (!sawCall) {
      fail(new RpcError(ErrorCode.INVALID_REQUEST,
        'the multipart body has no parts; its first part must be "json", holding the call'))
      return
    }
    done = true
    handlers.onEnd()
  }))
  busboy.on('drain', drained)
  req.on('data', feed)
  req.on('end', ended)
  return { stop }
}

/**
 * Reads the `json` part whole and hands its text to `onText` once. Returns a flush: busboy pushes a part's bytes as
 * it parses them, but its end only a tick later, so when busboy has begun a later part (or hit a limit there), the
 * flush takes the bytes still buffered and reports the call at once, before that part or that failure.
 */
function readCallPart (part: Readable, max: number, onText: (text: string) => void, fail: (err: unknown) => void): () => void {
  const chunks: Buffer[] = []
  let size = 0
  let reported = false
  part.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > max) {
      part.removeAllListeners('data')
      part.resume()
      fail(limitError('callSize', max, 'the "json" part'))
      return
    }
    chunks.push(chunk)
  })
  const report = (): void => {
    if (reported || size > max) return
    reported = true
    onText(Buffer.concat(chunks).toString('utf8'))
  }
  part.on('end', report)
  return () => {
    if (reported || size > max) return
    // read() hands each buffered chunk to the 'data' listener above.
    while (part.read() !== null);
    report()
  }
}

/**
 * A multipart filename as the user named the file. Browsers (the HTML standard's form encoding) and curl escape three
 * characters inside the quoted filename: `"` as `%22`, CR as `%0D`, LF as `%0A`, and nothing else (a `%` stays as
 * it is), so exactly these three are decoded.
 */
function decodeFormFilename (filename: string): string {
  return filename.replace(/%22|%0D|%0A/gi, (escape) => ESCAPED[escape.toUpperCase()] as string)
}

const ESCAPED: Readonly<Record<string, string>> = { '%22': '"', '%0D': '\r', '%0A': '\n' }

/**
 * The media type krpc's Python client meant: it sends `str(mimetypes.guess_type(name))`, a tuple such as
 * `('text/plain', None)` (or `(None, None)` when it could not guess), as the part's Content-Type. Any other value is
 * kept as declared.
 */
function krpcTypeRepaired (type: string): string {
  if (!type.startsWith('(')) return type
  const guessed = /^\('([^']+)',[^)]*\)$/.exec(type)
  if (guessed !== null) return guessed[1] as string
  return /^\(none,[^)]*\)$/.test(type) ? 'application/octet-stream' : type
}
