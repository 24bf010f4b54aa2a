import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Busboy } from '@fastify/busboy'
import { DOWNLOAD_HEADER, ErrorCode, JSONRPC_VERSION, httpStatusOf, parsePlaceholder } from '@formcall/spec'
import type { CallEnvelope, CallId, DOWNLOAD_BRAND } from '@formcall/spec'

/** A value the stand-in's methods return as a download, as the real server's `download()` helper marks it. */
interface Download { readonly [DOWNLOAD_BRAND]: true }

/**
 * The stand-in's methods as a server-side methods type, so that tests get typed clients.
 *
 * @example
 * ```ts
 * const download = await window.formcall.createClient<StandInMethods>(rpcUrl).files.download('a', 'a.txt', 'text/plain')
 * download.filename // typed: string | null
 * ```
 */
export interface StandInMethods {
  echo: (value: unknown) => unknown
  request: { header: (name: string) => string | null }
  files: {
    describe: (...params: unknown[]) => unknown[]
    download: (text: string, filename: string, type: string) => Download
    truncatedDownload: () => Download
  }
  fail: (code: number, message: string, data?: unknown) => never
  hold: (...params: unknown[]) => never
}

/** What the stand-in learnt about one part of a multipart request. */
export interface ReceivedPart {
  name: string
  /** `undefined` for text fields. */
  filename: string | undefined
  type: string
  size: number
  sha256: string
}

/** One request as the stand-in saw it, for tests that check the wire format itself. */
export interface ReceivedRequest {
  contentType: string
  call: CallEnvelope
  /** Every part in arrival order, the `json` field included. */
  parts: ReceivedPart[]
  /**
   * Resolves when the connection is done with; `complete` is false when the body was cut short. For a held call,
   * only after `release()`: a socket nobody reads from does not notice that the client has gone.
   */
  closed: Promise<{ complete: boolean }>
  /** Lets a held call read (and discard) the rest of its body. */
  release: () => void
}

/** A node:http handler answering formcall calls, and the log of what it received. */
export interface StandInRpc {
  handle: (req: IncomingMessage, res: ServerResponse) => void
  received: ReceivedRequest[]
  /** Resolves when the next call to `method` has been read (for multipart: its `json` part, before any file). */
  nextCall: (method: string) => Promise<ReceivedRequest>
}

/**
 * A minimal stand-in for a formcall server: enough of PROTOCOL.md to exercise the browser client (JSON and
 * multipart calls, `$file` placeholders, error envelopes, downloads), with a few methods made for the tests:
 *
 * - `echo(value)` → value;
 * - `request.header(name)` → that request header, to see the headers a client sent;
 * - `files.describe(...params)` → params with each `$file` placeholder replaced by `{ filename, type, size, sha256 }`
 *   of its part;
 * - `fail(code, message, data)` → an error envelope with those fields;
 * - `hold()` → never answers; in a multipart call it also stops reading the body, so the upload stalls;
 * - `files.download(text, filename, type)` → a download of `text`;
 * - `files.truncatedDownload()` → a download whose connection breaks after 10 of its 1000 bytes.
 *
 * Unknown methods get METHOD_NOT_FOUND. It is a test double: no limits, no origin checks, one call per request.
 *
 * @example
 * ```ts
 * const rpc = createStandInRpc()
 * http.createServer((req, res) => rpc.handle(req, res))
 * ```
 */
export function createStandInRpc (): StandInRpc {
  const received: ReceivedRequest[] = []
  const waiting = new Set<{ method: string; resolve: (request: ReceivedRequest) => void }>()

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const contentType = req.headers['content-type'] ?? ''
    const closed = new Promise<{ complete: boolean }>((resolve) => {
      res.once('close', () => { resolve({ complete: req.complete }) })
    })
    const record = (call: CallEnvelope, parts: ReceivedPart[]): void => {
      const request = { contentType, call, parts, closed, release: () => { req.resume() } }
      received.push(request)
      for (const waiter of waiting) {
        if (waiter.method === call.method) { waiting.delete(waiter); waiter.resolve(request) }
      }
    }
    if (req.method !== 'POST') {
      sendError(res, null, ErrorCode.HTTP_METHOD_NOT_ALLOWED, 'POST the call to this endpoint')
    } else if (contentType.startsWith('application/json')) {
      readJsonCall(req, res, record)
    } else if (contentType.startsWith('multipart/form-data')) {
      readMultipartCall(req, res, record)
    } else {
      sendError(res, null, ErrorCode.UNSUPPORTED_MEDIA_TYPE, `content type "${contentType}" is not a formcall encoding`)
    }
  }

  const nextCall = (method: string): Promise<ReceivedRequest> =>
    new Promise((resolve) => { waiting.add({ method, resolve }) })

  return { handle, received, nextCall }
}

type RecordCall = (call: CallEnvelope, parts: ReceivedPart[]) => void

function readJsonCall (req: IncomingMessage, res: ServerResponse, record: RecordCall): void {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const call = parseCall(Buffer.concat(chunks).toString('utf8'), res)
    if (call === undefined) return
    record(call, [])
    dispatch(call, new Map(), req, res)
  })
}

function readMultipartCall (req: IncomingMessage, res: ServerResponse, record: RecordCall): void {
  const parser = Busboy({ headers: { ...req.headers, 'content-type': req.headers['content-type'] as string } })
  const parts: ReceivedPart[] = []
  const hashed: Promise<void>[] = []
  const files = new Map<string, ReceivedPart>()
  let call: CallEnvelope | undefined
  let failed = false

  const refuse = (message: string): void => {
    if (failed) return
    failed = true
    req.unpipe(parser)
    req.resume()
    sendError(res, null, ErrorCode.INVALID_REQUEST, message)
  }

  parser.on('field', (name, value) => {
    if (failed) return
    const part = { name, filename: undefined, type: 'text/plain', size: Buffer.byteLength(value), sha256: sha256(value) }
    parts.push(part)
    if (call === undefined) {
      if (name !== 'json') { refuse(`the first part must be "json", got "${name}"`); return }
      call = parseCall(value, res)
      if (call === undefined) { failed = true; req.unpipe(parser); req.resume(); return }
      record(call, parts)
      if (call.method === 'hold') {
        // Stop reading: the socket buffers fill up and the client's upload stalls part-way, until it gives up.
        req.unpipe(parser)
        req.pause()
      }
    }
  })
  parser.on('file', (name, stream, filename, _encoding, type) => {
    if (failed || call === undefined) {
      stream.resume()
      refuse(`the first part must be the "json" field, got file part "${name}"`)
      return
    }
    const hash = createHash('sha256')
    let size = 0
    stream.on('data', (chunk: Buffer) => { size += chunk.length; hash.update(chunk) })
    hashed.push(new Promise((resolve, reject) => {
      stream.on('error', reject)
      stream.on('end', () => {
        const part = { name, filename, type, size, sha256: hash.digest('hex') }
        parts.push(part)
        if (!files.has(name)) files.set(name, part)
        resolve()
      })
    }))
  })
  parser.on('finish', () => {
    if (failed) return
    if (call === undefined) { refuse('the body has no "json" part'); return }
    const ready = call
    Promise.all(hashed).then(() => { dispatch(ready, files, req, res) }, (err: Error) => { refuse(err.message) })
  })
  parser.on('error', (err: Error) => { refuse(`broken multipart body: ${err.message}`) })
  req.pipe(parser)
}

function parseCall (text: string, res: ServerResponse): CallEnvelope | undefined {
  try {
    const call = JSON.parse(text) as CallEnvelope
    if (typeof call === 'object' && call !== null && typeof call.method === 'string') return call
    sendError(res, null, ErrorCode.INVALID_REQUEST, 'the call must be an object with a string "method"')
  } catch {
    sendError(res, null, ErrorCode.PARSE_ERROR, 'the call is not valid JSON')
  }
  return undefined
}

function dispatch (call: CallEnvelope, files: Map<string, ReceivedPart>, req: IncomingMessage, res: ServerResponse): void {
  const id = call.id ?? null
  const params = Array.isArray(call.params) ? call.params : call.params === undefined ? [] : [call.params]
  switch (call.method) {
    case 'echo':
      sendResult(res, id, params[0] ?? null)
      return
    case 'request.header':
      sendResult(res, id, req.headers[String(params[0]).toLowerCase()] ?? null)
      return
    case 'files.describe':
      sendResult(res, id, describeFiles(call.params ?? [], files))
      return
    case 'fail':
      sendError(res, id, params[0] as number, params[1] as string, params[2])
      return
    case 'hold':
      return
    case 'files.download':
      sendDownload(res, String(params[0]), String(params[1]), String(params[2]))
      return
    case 'files.truncatedDownload':
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000', [DOWNLOAD_HEADER]: '1' })
      res.write(Buffer.alloc(10), () => { res.socket?.destroy() })
      return
    default:
      sendError(res, id, ErrorCode.METHOD_NOT_FOUND, `no method "${call.method}" in the stand-in server`)
  }
}

function describeFiles (value: unknown, files: Map<string, ReceivedPart>): unknown {
  const placeholder = parsePlaceholder(value)
  if (placeholder !== undefined) {
    const part = files.get(placeholder.part)
    return part === undefined ? { missing: placeholder.part } : { filename: part.filename, type: part.type, size: part.size, sha256: part.sha256 }
  }
  if (Array.isArray(value)) return value.map((item) => describeFiles(item, files))
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, describeFiles(item, files)]))
  }
  return value
}

function sendDownload (res: ServerResponse, text: string, filename: string, type: string): void {
  const body = Buffer.from(text, 'utf8')
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  res.writeHead(200, {
    'content-type': type,
    'content-length': String(body.length),
    'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
    [DOWNLOAD_HEADER]: '1'
  })
  res.end(body)
}

function sendResult (res: ServerResponse, id: CallId, result: unknown): void {
  sendJson(res, 200, { jsonrpc: JSONRPC_VERSION, id, result })
}

function sendError (res: ServerResponse, id: CallId, code: number, message: string, data?: unknown): void {
  const error = data === undefined ? { code, message } : { code, message, data }
  sendJson(res, httpStatusOf(code), { jsonrpc: JSONRPC_VERSION, id, error })
}

function sendJson (res: ServerResponse, status: number, envelope: unknown): void {
  const body = JSON.stringify(envelope)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) })
  res.end(body)
}

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
