/**
 * Sends one request exactly as drafted over a fresh TCP connection and classifies what came back. Unlike
 * test/support/raw-http.ts, it takes the response as soon as it is complete (a mutated request may ask for
 * keep-alive), skips interim `100 Continue` answers, and gives up after a timeout (the case then counts as hung).
 */
import { connect } from 'node:net'
import { errorInfo, httpStatusOf } from '@formcall/spec'
import { wire, type Draft } from './draft.js'

/** What a case can end as. `crashed` is decided by the runner (the server process exited), never here. */
export const OUTCOME_CLASSES = ['json-error', 'result', 'http-error', 'dropped', 'hung', 'crashed'] as const
export type OutcomeClass = (typeof OUTCOME_CLASSES)[number]

/** Codes the fuzz methods raise themselves (fuzz-methods.ts), besides the registry's. */
export const APPLICATION_CODES: readonly number[] = [4001]

/** How one request ended. */
export interface CaseOutcome {
  readonly class: OutcomeClass
  readonly status?: number
  /** Error codes in the answer (several for a batch). */
  readonly codes: readonly number[]
  /** What the answer did wrong, if anything: an unregistered code, a status that does not match its code, … */
  readonly problems: readonly string[]
  /** A short description, for reports. */
  readonly detail: string
}

/**
 * Sends `draft` to `url`'s host and port.
 *
 * @example
 * ```ts
 * const outcome = await sendDraft('http://127.0.0.1:4000/rpc', draft, 5000)
 * outcome.class // 'json-error'
 * ```
 */
export async function sendDraft (url: string, draft: Draft, timeoutMs: number): Promise<CaseOutcome> {
  const { head, body } = wire(draft)
  const { hostname, port } = new URL(url)
  const method = draft.method
  return await new Promise<CaseOutcome>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) })
    const chunks: Buffer[] = []
    let settled = false
    let socketError: string | undefined
    const settle = (outcome: CaseOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => {
      settle({ class: 'hung', codes: [], problems: [], detail: `no complete answer within ${timeoutMs} ms (${Buffer.concat(chunks).length} bytes received)` })
    }, timeoutMs)
    socket.on('error', (err: NodeJS.ErrnoException) => { socketError = err.code ?? err.message })
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      const parsed = readResponse(Buffer.concat(chunks), method, false)
      if (parsed !== 'incomplete' && parsed !== 'none') settle(classify(parsed))
    })
    socket.on('close', () => {
      const bytes = Buffer.concat(chunks)
      if (bytes.length === 0) {
        settle({ class: 'dropped', codes: [], problems: [], detail: `closed without an answer${socketError === undefined ? '' : ` (${socketError})`}` })
        return
      }
      const parsed = readResponse(bytes, method, true)
      if (parsed === 'none') {
        settle({ class: 'dropped', codes: [], problems: [], detail: `closed after an interim answer only${socketError === undefined ? '' : ` (${socketError})`}` })
      } else if (parsed === 'incomplete') {
        settle({ class: 'dropped', codes: [], problems: [`the answer was cut short after ${bytes.length} bytes`], detail: 'answer cut short' })
      } else {
        settle(classify(parsed))
      }
    })
    socket.once('connect', () => {
      void writeAll(socket, head, body, draft.pieces).then(() => {
        if (draft.endWrite && !socket.destroyed) socket.end()
      })
    })
  })
}

async function writeAll (socket: import('node:net').Socket, head: Buffer, body: Buffer, pieces: number): Promise<void> {
  const write = async (bytes: Buffer): Promise<void> => {
    if (socket.destroyed || socket.writableEnded || bytes.length === 0) return
    await new Promise<void>((resolve) => { socket.write(bytes, () => resolve()) })
  }
  const all = Buffer.concat([head, body])
  const step = Math.ceil(all.length / Math.max(1, pieces))
  for (let at = 0; at < all.length; at += step) {
    await write(all.subarray(at, at + step))
    if (pieces > 1) await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

interface Response {
  status: number
  headers: Record<string, string>
  body: Buffer
}

/**
 * The final response in `bytes`, `'incomplete'` while more is expected. `closed` means the connection ended: a
 * response without a length then ends there, a response cut short stays incomplete, and interim answers alone are
 * `'none'`. A head that is not HTTP counts as a response with status 0.
 */
function readResponse (bytes: Buffer, method: string, closed: boolean): Response | 'incomplete' | 'none' {
  let offset = 0
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', offset)
    if (headEnd < 0) {
      if (!closed) return 'incomplete'
      // Only interim answers (100 Continue) and then the end: no answer at all.
      return bytes.length > offset ? { status: 0, headers: {}, body: bytes.subarray(offset) } : 'none'
    }
    const [statusLine = '', ...lines] = bytes.subarray(offset, headEnd).toString('latin1').split('\r\n')
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)
    if (match === null) return { status: 0, headers: {}, body: bytes.subarray(offset) }
    const status = Number(match[1])
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).trim().toLowerCase()
      headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`
    }
    const start = headEnd + 4
    if (status >= 100 && status < 200 && status !== 101) {
      offset = start
      continue
    }
    if (method === 'HEAD' || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) }
    const rest = bytes.subarray(start)
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const body = dechunk(rest)
      return body === undefined ? 'incomplete' : { status, headers, body }
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      return rest.length >= length ? { status, headers, body: rest.subarray(0, length) } : 'incomplete'
    }
    return closed ? { status, headers, body: rest } : 'incomplete'
  }
}

function dechunk (bytes: Buffer): Buffer | undefined {
  const out: Buffer[] = []
  let at = 0
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at)
    if (lineEnd < 0) return undefined
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16)
    if (Number.isNaN(size)) return undefined
    if (size === 0) return Buffer.concat(out)
    const start = lineEnd + 2
    if (start + size + 2 > bytes.length) return undefined
    out.push(bytes.subarray(start, start + size))
    at = start + size + 2
  }
}

function classify (response: Response): CaseOutcome {
  const { status, headers, body } = response
  if (status === 0) return { class: 'http-error', codes: [], problems: [], detail: 'not an HTTP response' }
  if (status === 204 && body.length === 0) return { class: 'result', status, codes: [], problems: [], detail: '204 (notifications)' }
  let value: unknown
  if (/json/i.test(headers['content-type'] ?? '')) {
    try {
      value = JSON.parse(body.toString('utf8'))
    } catch {
      value = undefined
    }
  }
  if (Array.isArray(value)) {
    const codes: number[] = []
    const problems: string[] = []
    for (const entry of value) {
      const checked = checkEnvelope(entry, undefined)
      if (checked === undefined) problems.push(`a batch entry is not an envelope: ${JSON.stringify(entry).slice(0, 200)}`)
      else {
        codes.push(...checked.codes)
        problems.push(...checked.problems)
      }
    }
    if (status !== 200) problems.push(`a batch answered with HTTP ${status}`)
    return { class: 'result', status, codes, problems, detail: `batch of ${value.length}` }
  }
  const checked = checkEnvelope(value, status)
  if (checked === undefined) {
    return { class: 'http-error', status, codes: [], problems: [], detail: `HTTP ${status} ${body.toString('utf8').slice(0, 120)}` }
  }
  return { ...checked, status }
}

/** Checks a JSON-RPC envelope; `undefined` when the value is none. `status` is checked against the code when given. */
function checkEnvelope (value: unknown, status: number | undefined): Omit<CaseOutcome, 'status'> | undefined {
  if (typeof value !== 'object' || value === null || (value as { jsonrpc?: unknown }).jsonrpc !== '2.0') return undefined
  const envelope = value as { result?: unknown, error?: { code?: unknown, message?: unknown } }
  if (Object.hasOwn(envelope, 'result')) {
    const problems = status !== undefined && status !== 200 ? [`a result answered with HTTP ${status}`] : []
    return { class: 'result', codes: [], problems, detail: 'result' }
  }
  const error = envelope.error
  if (typeof error !== 'object' || error === null || typeof error.code !== 'number') return undefined
  const code = error.code
  const problems: string[] = []
  if (errorInfo(code) === undefined && !APPLICATION_CODES.includes(code)) problems.push(`unregistered error code ${code}`)
  // A mutated call may or may not speak JSON-RPC 2.0 or krpc, so either status of PROTOCOL.md section 8.1 is right.
  const allowed = [httpStatusOf(code), httpStatusOf(code, 'envelope')]
  if (status !== undefined && !allowed.includes(status)) problems.push(`code ${code} answered with HTTP ${status}, not ${allowed.join(' or ')}`)
  if (typeof error.message !== 'string' || error.message === '') problems.push(`code ${code} has no message`)
  return { class: 'json-error', codes: [code], problems, detail: `${code} ${String(error.message).slice(0, 120)}` }
}
