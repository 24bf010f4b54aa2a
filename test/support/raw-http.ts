import { connect, type Socket } from 'node:net'

/** A response read off the wire. */
export interface RawResponse {
  readonly status: number
  /** Header names lower-cased; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>
  /** The body, de-chunked when the response was chunked. */
  readonly body: Buffer
  /** True when the response came with `Transfer-Encoding: chunked`. */
  readonly chunked: boolean
  /** The body as UTF-8 text. */
  readonly text: string
  /** The body parsed as JSON. */
  json<T = any> (): T
}

/** The head of a raw request; the body is written by the caller. */
export interface RawHead {
  /** HTTP method, default `POST`. */
  method?: string
  /** Request target (path and query); default the URL's path and query. */
  target?: string
  /** Headers exactly as sent (names keep their case). `Host` and `Connection: close` are added when absent. */
  headers?: Record<string, string> | Array<[string, string]>
}

/** A request whose body is written piece by piece, for uploads that stop half-way. */
export interface OpenRequest {
  readonly socket: Socket
  /** Writes bytes and resolves once they are handed to the kernel. */
  write (chunk: Buffer | string): Promise<void>
  /** Ends the request side of the connection. */
  end (): void
  /** Kills the connection (the server sees the client vanish mid-body). */
  destroy (): void
  /** The response, once the server closed the connection; rejects if the connection died without one. */
  readonly response: Promise<RawResponse>
}

/**
 * Opens a connection to `url`'s host and writes the request line and headers exactly as given (no body yet).
 *
 * @example
 * ```ts
 * const req = await openRequest(url, { headers: { 'Content-Type': 'multipart/form-data; boundary=b', 'Content-Length': '999' } })
 * await req.write(firstHalf)
 * req.destroy()
 * ```
 */
export async function openRequest (url: string, head: RawHead = {}): Promise<OpenRequest> {
  const parsed = new URL(url)
  const socket = connect({ host: parsed.hostname, port: Number(parsed.port) })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  const response = new Promise<RawResponse>((resolve, reject) => {
    let failure: Error | undefined
    socket.on('error', (err) => { failure = err })
    socket.on('close', () => {
      const bytes = Buffer.concat(chunks)
      try {
        resolve(parseResponse(bytes))
      } catch (err) {
        reject(failure ?? err)
      }
    })
  })
  // A server that answers early and closes makes our remaining writes fail; the response still counts.
  response.catch(() => {})

  const entries = Array.isArray(head.headers) ? head.headers : Object.entries(head.headers ?? {})
  const names = new Set(entries.map(([name]) => name.toLowerCase()))
  const lines = [`${head.method ?? 'POST'} ${head.target ?? parsed.pathname + parsed.search} HTTP/1.1`]
  if (!names.has('host')) lines.push(`Host: ${parsed.host}`)
  for (const [name, value] of entries) lines.push(`${name}: ${value}`)
  if (!names.has('connection')) lines.push('Connection: close')
  const write = async (chunk: Buffer | string): Promise<void> => {
    if (socket.destroyed || socket.writableEnded) return
    await new Promise<void>((resolve) => {
      socket.write(chunk, () => resolve())
    })
  }
  await write(lines.join('\r\n') + '\r\n\r\n')
  return {
    socket,
    write,
    end: () => { if (!socket.destroyed) socket.end() },
    destroy: () => { socket.destroy() },
    response
  }
}

/**
 * Sends one request with exactly these headers and body bytes and reads the whole response. `Content-Length` is added
 * when the headers name neither it nor `Transfer-Encoding`.
 *
 * @example
 * ```ts
 * const res = await rawRequest(url, { headers: { 'Content-Type': 'application/json' }, body: '{"method":"echo","params":[1]}' })
 * res.status // 200
 * ```
 */
export async function rawRequest (url: string, request: RawHead & { body?: Buffer | string } = {}): Promise<RawResponse> {
  const body = request.body === undefined ? undefined : Buffer.from(request.body)
  const entries = Array.isArray(request.headers) ? [...request.headers] : Object.entries(request.headers ?? {})
  const names = new Set(entries.map(([name]) => name.toLowerCase()))
  if (body !== undefined && !names.has('content-length') && !names.has('transfer-encoding')) {
    entries.push(['Content-Length', String(body.length)])
  }
  const open = await openRequest(url, { ...request, headers: entries })
  if (body !== undefined) await open.write(body)
  return await open.response
}

/** POSTs a call as `application/json` and returns the response. */
export async function postJson (url: string, call: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return await rawRequest(url, { headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(call) })
}

/** Parses an HTTP/1.1 response that ended with the connection. */
export function parseResponse (bytes: Buffer): RawResponse {
  const headEnd = bytes.indexOf('\r\n\r\n')
  if (headEnd < 0) throw new Error(`no HTTP response head in ${bytes.length} bytes`)
  const [statusLine, ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n')
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')
  if (match === null) throw new Error(`not an HTTP status line: ${statusLine}`)
  const headers: Record<string, string> = {}
  for (const line of headerLines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  let body = bytes.subarray(headEnd + 4)
  const chunked = /chunked/i.test(headers['transfer-encoding'] ?? '')
  if (chunked) body = dechunk(body)
  else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length'])
    if (body.length < length) throw new Error(`response body cut short: ${body.length} of ${length} bytes`)
    body = body.subarray(0, length)
  }
  const text = body.toString('utf8')
  return { status: Number(match[1]), headers, body, chunked, text, json: () => JSON.parse(text) }
}

function dechunk (bytes: Buffer): Buffer {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at)
    if (lineEnd < 0) throw new Error('chunked body cut short (no final chunk)')
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16)
    if (Number.isNaN(size)) throw new Error('malformed chunk size')
    if (size === 0) return Buffer.concat(out)
    const start = lineEnd + 2
    if (start + size > bytes.length) throw new Error('chunked body cut short (partial chunk)')
    out.push(bytes.subarray(start, start + size))
    at = start + size + 2
  }
}
