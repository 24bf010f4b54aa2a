import sjson from 'secure-json-parse'
import { ErrorCode, RpcError, statusRuleOf, type CallEnvelope, type CallId, type StatusRule } from '@formcall/spec'
import { responseId, type ResponseId } from './raw-id.js'

/** A call after validation, with the parts of the envelope the server acts on. */
export interface ParsedCall {
  readonly method: string
  /** Positional params, or one named-params object as the single argument. */
  readonly args: readonly unknown[]
  /** The params as sent, for the before-call hook. */
  readonly params: CallEnvelope['params']
  readonly id: CallId
  /** A JSON-RPC 2.0 request without `id`: run it, answer nothing. */
  readonly notification: boolean
  readonly hookParams: unknown
}

/**
 * Parses JSON text of a call or batch. `__proto__` and `constructor.prototype` keys are removed, so params can never
 * smuggle a prototype into objects a method builds from them.
 *
 * @throws RpcError PARSE_ERROR
 */
export function parseJsonText (text: string): unknown {
  try {
    return sjson.parse(text, { protoAction: 'remove', constructorAction: 'remove' })
  } catch (err) {
    throw new RpcError(
      ErrorCode.PARSE_ERROR,
      `the call is not valid JSON (${(err as Error).message}); send {"method": "name", "params": [...]}`
    )
  }
}

/** The id of a parsed value if it has a usable one, for error responses to calls that fail validation. */
export function idOf (value: unknown): CallId {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const id = (value as { id?: unknown }).id
  return typeof id === 'string' || typeof id === 'number' ? id : null
}

/**
 * How to answer a parsed value, a valid call or not: the id to echo, as the client wrote it (`literal` gives a number
 * id's text, PROTOCOL.md section 5.3), and whose rule sets an error's HTTP status (section 8.1).
 */
export function answerTermsOf (value: unknown, literal: () => string | undefined): { id: ResponseId, rule: StatusRule } {
  return { id: responseId(idOf(value), literal), rule: statusRuleOf(value) }
}

/**
 * Checks a parsed value is a call (PROTOCOL.md section 2) and returns what the server needs of it.
 *
 * @throws RpcError INVALID_REQUEST
 * @example
 * ```ts
 * readCall({ method: 'echo', params: ['hi'] }) // { method: 'echo', args: ['hi'], id: null, ... }
 * ```
 */
export function readCall (value: unknown): ParsedCall {
  const invalid = (what: string): RpcError => new RpcError(
    ErrorCode.INVALID_REQUEST,
    `${what}; a call is {"method": "name", "params": [...] or {...}, "id"?: ...}`
  )
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('the call is not a JSON object')
  const call = value as Record<string, unknown>
  if (typeof call.method !== 'string' || call.method === '') throw invalid('"method" is missing or not a non-empty string')
  if (call.jsonrpc !== undefined && call.jsonrpc !== '2.0') throw invalid('"jsonrpc" must be "2.0" when present')
  const id = call.id
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') {
    throw invalid('"id" must be a string, a number or null')
  }
  const params = call.params
  let args: readonly unknown[]
  if (params === undefined) args = []
  else if (Array.isArray(params)) args = params
  else if (typeof params === 'object' && params !== null) args = [params]
  else throw invalid('"params" must be an array or an object')
  return {
    method: call.method,
    args,
    params: params as CallEnvelope['params'],
    id: (id ?? null) as CallId,
    notification: call.jsonrpc === '2.0' && !Object.hasOwn(call, 'id'),
    hookParams: call.pmhparams
  }
}
