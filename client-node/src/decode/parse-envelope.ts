import { RpcError, type ErrorObject } from '@formcall/spec'
import { TransportError } from '../errors.js'

/** What is known about the response whose body is being parsed. */
export interface EnvelopeContext {
  /** Names the call in error messages. */
  label: string
  /** The id the call was sent with. */
  id: number
  status: number
  contentType: string | undefined
  /** `false` when the body was cut at the read limit. */
  complete: boolean
}

/**
 * Reads a JSON-RPC envelope: returns `result`, throws the server's `RpcError` for `error`, and throws a `protocol`
 * TransportError for anything else (HTML from a proxy, JSON of another shape, another call's id), quoting the start
 * of the body so the log shows who answered.
 *
 * @example
 * ```ts
 * parseEnvelope('{"jsonrpc":"2.0","id":1,"result":42}', context) // 42
 * parseEnvelope('{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no method"}}', context) // throws RpcError
 * ```
 */
export function parseEnvelope (text: string, context: EnvelopeContext): unknown {
  const notAnAnswer = (why: string): TransportError => new TransportError('protocol',
    `${context.label} got HTTP ${context.status}${context.contentType === undefined ? '' : ` (${context.contentType})`} ` +
    `that is not a formcall answer: ${why}; check that the URL is a formcall endpoint and that no proxy answers in its place`,
    { status: context.status })

  if (!context.complete) throw notAnAnswer(`a body too large for an error page, starting ${quote(text)}`)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw notAnAnswer(text.trim() === '' ? 'the body is empty' : `the body is not JSON: ${quote(text)}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw notAnAnswer(`expected a JSON object with "result" or "error", got ${quote(text)}`)
  }
  const envelope = body as Record<string, unknown>
  if (envelope.id !== undefined && envelope.id !== null && envelope.id !== context.id) {
    throw notAnAnswer(`it answers call id ${JSON.stringify(envelope.id)}, not ${context.id}`)
  }
  if ('error' in envelope) {
    if (!isErrorObject(envelope.error)) throw notAnAnswer(`its "error" is not { code: integer, message: string }: ${quote(text)}`)
    throw RpcError.fromJSON(envelope.error)
  }
  if ('result' in envelope) return envelope.result
  throw notAnAnswer(`the JSON object has neither "result" nor "error": ${quote(text)}`)
}

function isErrorObject (value: unknown): value is ErrorObject {
  if (typeof value !== 'object' || value === null) return false
  const { code, message } = value as Record<string, unknown>
  return Number.isInteger(code) && typeof message === 'string'
}

/** The start of a body, on one line, for an error message. */
function quote (text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line)
}
