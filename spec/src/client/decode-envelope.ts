import { RpcError } from '../rpc-error.js'
import { TransportError } from '../transport-error.js'
import type { CallId, ErrorObject } from '../wire.js'

/** What is known about the call and the response whose body is decoded. */
export interface AnswerContext {
  /** The id the call was sent with. */
  id: CallId
  /** Names the call in error messages: `call "files.store" to http://localhost:8080/rpc`. */
  label: string
  /** The HTTP status of the response. */
  status: number
  /** The response's `Content-Type`, when it had one. */
  contentType?: string | null | undefined
  /** `false` when the transport stopped reading the body at a size limit; the text is then only its start. */
  complete?: boolean
}

/** A body that has the shape of an envelope; whether it answers this call is decided next. */
type Envelope =
  | { kind: 'result'; hasId: boolean; id: unknown; result: unknown }
  | { kind: 'error'; hasId: boolean; id: unknown; error: ErrorObject }

/**
 * Turns a response body into the call's outcome, by PROTOCOL.md 5.7: returns `result`, throws the server's `RpcError`
 * for `error`, and throws a `protocol` TransportError (carrying the HTTP status, quoting the body) for anything else.
 *
 * The HTTP status never decides: servers answer errors with 200 (JSON-RPC 2.0 and krpc callers) as well as with the
 * code's 4xx/5xx status, and a JSON envelope is read the same way under either, while a proxy's HTML 502 is not an
 * envelope under any status. The id rule: an envelope answers the call when its `id` equals the call's id (same JSON
 * type and value); an error envelope may instead carry `id: null`, the id of a server that could not read the call
 * (JSON-RPC 2.0 section 5). A result with `id: null`, a missing id, or any other id is not this call's answer.
 *
 * @example
 * ```ts
 * decodeEnvelope('{"jsonrpc":"2.0","id":7,"result":42}', { id: 7, label: 'call "add"', status: 200 })  // 42
 * decodeEnvelope('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"not JSON"}}', { id: 7, label: 'call "add"', status: 400 })
 * // throws RpcError -32700
 * decodeEnvelope('{"jsonrpc":"2.0","id":null,"result":42}', { id: 7, label: 'call "add"', status: 200 })
 * // throws TransportError('protocol')
 * ```
 */
export function decodeEnvelope (text: string, context: AnswerContext): unknown {
  const envelope = readEnvelope(text, context)
  if (!answersCall(envelope, context.id)) throw notAnAnswer(otherCallReason(envelope, context.id), text, context)
  if (envelope.kind === 'error') throw RpcError.fromJSON(envelope.error)
  return envelope.result
}

/**
 * The id rule of PROTOCOL.md 5.7. `null` is allowed on errors only: a server that failed before it could read the
 * call (a body that is not JSON, a limit hit while reading it) has no id to echo, while a result always comes from a
 * call whose id the server read. The clients send a number, so `"7"` does not answer the call 7: a server that turned
 * the id into a string has not echoed it.
 */
function answersCall (envelope: Envelope, id: CallId): boolean {
  if (!envelope.hasId) return false
  return envelope.id === id || (envelope.kind === 'error' && envelope.id === null)
}

/** Parses the body and checks it is an envelope: one JSON object with exactly one of `result` and a valid `error`. */
function readEnvelope (text: string, context: AnswerContext): Envelope {
  if (context.complete === false) throw notAnAnswer('a body too large for an error page', text, context)
  if (text.trim() === '') throw notAnAnswer('an empty body', text, context)
  let body: unknown
  try {
    // RFC 8259 section 8.1 lets a parser ignore a byte order mark; a browser's text decoding drops it anyway, so
    // both clients ignore it rather than differ on it.
    body = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text)
  } catch (err) {
    throw notAnAnswer('a body that is not JSON', text, context, err)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw notAnAnswer('JSON that is not an envelope object', text, context)
  const fields = body as Record<string, unknown>
  const hasResult = Object.hasOwn(fields, 'result')
  const hasError = Object.hasOwn(fields, 'error')
  const hasId = Object.hasOwn(fields, 'id')
  if (hasResult && hasError) throw notAnAnswer('an envelope with both result and error', text, context)
  if (hasError) {
    if (!isErrorObject(fields.error)) throw notAnAnswer('an error that is not { code: integer, message: string }', text, context)
    return { kind: 'error', hasId, id: fields.id, error: fields.error }
  }
  if (hasResult) return { kind: 'result', hasId, id: fields.id, result: fields.result }
  throw notAnAnswer('an envelope with neither result nor error', text, context)
}

function isErrorObject (value: unknown): value is ErrorObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const { code, message } = value as Record<string, unknown>
  return Number.isInteger(code) && typeof message === 'string'
}

/** Why an envelope does not answer the call, in the words a log reader needs. */
function otherCallReason (envelope: Envelope, id: CallId): string {
  const expected = JSON.stringify(id)
  if (!envelope.hasId) return `an envelope without an id (expected ${expected})`
  if (envelope.id === null) return `a result with id null, which only an error may carry (expected ${expected})`
  return `the answer to another call (id ${JSON.stringify(envelope.id)}, expected ${expected})`
}

function notAnAnswer (reason: string, text: string, context: AnswerContext, cause?: unknown): TransportError {
  const { label, status, contentType } = context
  const type = contentType === undefined || contentType === null || contentType === '' ? '' : ` (${contentType})`
  const body = text.trim() === '' ? '' : `; the body ${context.complete === false ? 'started' : 'was'} ${quote(text)}`
  return new TransportError('protocol',
    `${label} got HTTP ${status}${type} that is not a formcall answer: ${reason}${body}; ` +
    'check that the URL is a formcall endpoint and that no proxy answers in its place',
    cause === undefined ? { status } : { status, cause })
}

/** The start of a body, on one line, for an error message: enough to see who answered (a proxy's title, a stack). */
function quote (text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line)
}
