import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { isRpcError, isTransportError } from '../../src/index.js'

/** One row of `spec/vectors/client/answers.json` (spec/vectors/README.md, "Client answers"). */
export interface AnswerRow {
  what: string
  response: { status: number; headers: Record<string, string>; body: string }
  expected:
    | { result: unknown }
    | { rpcError: { code: number; message: string; data?: unknown } }
    | { transportError: { kind: string; status?: number; messageIncludes?: string } }
}

/**
 * How a call settled, in a form that crosses from a page to the test: what both clients' tests compare with a row.
 *
 * @example
 * ```ts
 * const outcome: AnswerOutcome = { transportError: { kind: 'protocol', status: 502, message: '…' } }
 * ```
 */
export type AnswerOutcome =
  | { result: unknown }
  | { rpcError: { code: number; message: string; data?: unknown } }
  | { transportError: { kind: string; status: number | undefined; message: string } }
  | { otherError: string }

/** The rows, read once. */
export const ANSWER_ROWS: readonly AnswerRow[] = (JSON.parse(
  readFileSync(new URL('../../vectors/client/answers.json', import.meta.url), 'utf8')
) as { vectors: AnswerRow[] }).vectors

/**
 * A node:http handler that answers a call with the row named by its `?row=<index>` query: the row's status, its
 * headers as written (plus `Content-Length` when the row has none and the status has a body) and its body, with
 * `{{id}}` and `{{id+1}}` replaced by the id of the call (read from its JSON body) and the one after it.
 *
 * @example
 * ```ts
 * http.createServer(replayAnswerRow)   // a client calling `${url}?row=3` gets row 3
 * ```
 */
export function replayAnswerRow (req: IncomingMessage, res: ServerResponse): void {
  const index = Number(new URL(req.url ?? '/', 'http://localhost').searchParams.get('row'))
  const row = ANSWER_ROWS[index]
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    if (row === undefined) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`no answer row ${index}`)
      return
    }
    const { id } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number }
    const body = Buffer.from(row.response.body.replaceAll('{{id+1}}', String(id + 1)).replaceAll('{{id}}', String(id)), 'utf8')
    const headers: OutgoingHttpHeaders = { ...row.response.headers }
    const declaresLength = Object.keys(headers).some((name) => /^(content-length|transfer-encoding)$/i.test(name))
    if (!declaresLength && row.response.status !== 204 && row.response.status !== 304) headers['Content-Length'] = body.length
    res.sendDate = false
    res.writeHead(row.response.status, headers)
    res.end(body)
  })
}

/**
 * Awaits a call and describes how it settled, with the same fields the browser test reads in its page.
 *
 * @example
 * ```ts
 * const outcome = await outcomeOf(api.answer())
 * ```
 */
export async function outcomeOf (call: Promise<unknown>): Promise<AnswerOutcome> {
  try {
    return { result: await call }
  } catch (err) {
    if (isRpcError(err)) return { rpcError: { code: err.code, message: err.message, ...(err.data === undefined ? {} : { data: err.data }) } }
    if (isTransportError(err)) return { transportError: { kind: err.kind, status: err.status, message: err.message } }
    return { otherError: String(err) }
  }
}

/**
 * Asserts that a call settled as its row expects: the same result, the same RpcError code, message and data, or a
 * TransportError of the row's kind and status whose message quotes what the row names.
 *
 * @example
 * ```ts
 * assertAnswerOutcome(row, await outcomeOf(api.answer()))
 * ```
 */
export function assertAnswerOutcome (row: AnswerRow, outcome: AnswerOutcome): void {
  const { expected } = row
  if (!('transportError' in expected)) {
    assert.deepEqual(outcome, expected)
    return
  }
  assert.ok('transportError' in outcome, `expected a TransportError, got ${JSON.stringify(outcome)}`)
  const { kind, status, messageIncludes } = expected.transportError
  assert.equal(outcome.transportError.kind, kind, outcome.transportError.message)
  if (status !== undefined) assert.equal(outcome.transportError.status, status, outcome.transportError.message)
  if (messageIncludes !== undefined) assert.ok(outcome.transportError.message.includes(messageIncludes), outcome.transportError.message)
}
