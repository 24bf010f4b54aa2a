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
  /** Where a browser navigation's result sends the browser: a checked same-origin path (PROTOCOL.md 13.2). */
  readonly redirect?: string | undefined
  /** Where a browser navigation's error sends the browser. */
  readonly errorRedirect?: string | undefined
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
export function readCall (value: unknown, formRedirects: readonly string[] = ANY_PATH): ParsedCall {
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
    hookParams: call.pmhparams,
    redirect: redirectTarget('redirect', call.redirect, formRedirects),
    errorRedirect: redirectTarget('errorRedirect', call.errorRedirect, formRedirects)
  }
}

const ANY_PATH: readonly string[] = ['/']
/** A path of this origin: one `/`, then printable characters but `\` (which browsers read as `/`) and none at all after `//`. */
const SAME_ORIGIN_PATH = /^\/(?![/\\])[\x21-\x5b\x5d-\x7e]*$/

/**
 * Checks a call's `redirect` / `errorRedirect`: a same-origin path under one of `prefixes`, never an address of
 * another site (an open redirect would let any page send the server's users anywhere with the server's name on it).
 *
 * @throws RpcError INVALID_REQUEST, before the method runs.
 */
function redirectTarget (member: string, value: unknown, prefixes: readonly string[]): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length > 2048 || !SAME_ORIGIN_PATH.test(value)) {
    throw new RpcError(ErrorCode.INVALID_REQUEST, `"${member}" must be a path of this site, such as "/done.html"; ` +
      `got ${JSON.stringify(value)?.slice(0, 200) ?? String(value)}`, { [member]: typeof value === 'string' ? value.slice(0, 200) : null })
  }
  if (!prefixes.some((prefix) => value.startsWith(prefix))) {
    throw new RpcError(ErrorCode.INVALID_REQUEST, `"${member}" may only name a path under ${prefixes.join(', ')} ` +
      `(formRedirects); got "${value.slice(0, 200)}"`, { [member]: value.slice(0, 200) })
  }
  return value
}
