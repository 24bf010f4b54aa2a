import type { FastifyReply, FastifyRequest } from 'fastify'
import { CALL_FIELD_NAMES, ErrorCode, RpcError, type StatusRule } from '@formcall/spec'
import { formParams } from '../bind/form-params.js'
import type { ResolvedOptions } from '../options.js'
import { answerTermsOf, parseJsonText, readCall } from '../parse/read-call.js'
import { batchIdLiterals, callIdLiteral, type ResponseId } from '../parse/raw-id.js'
import { limitError } from '../parse/multipart-errors.js'
import { runCall, type UploadBindings } from '../dispatch/run-call.js'
import { discardOutcome, type Outcome } from '../dispatch/outcome.js'
import { CallAbort } from '../dispatch/call-abort.js'
import type { Executor } from '../dispatch/executor.js'
import { serializeError, serializeSuccess } from '../respond/envelope.js'
import { sendError, sendOutcome } from '../respond/send-outcome.js'
import { noteFormTargets } from '../respond/navigation-answer.js'

/**
 * Answers a call that came without parts: a JSON body (one call or a batch), a urlencoded `json=` field, or a
 * `?json=` query. `text` is the call's JSON text.
 */
export async function handleJsonCall (request: FastifyRequest, reply: FastifyReply, text: string, options: {
  executor: Executor
  settings: ResolvedOptions
  uploads?: UploadBindings | undefined
  /** Answers `rpc.discover`, when discovery is on. */
  discover?: (() => Promise<string>) | undefined
  allowBatch: boolean
  /** The urlencoded form the call came in: a call without params takes its other fields (PROTOCOL.md 13.3). */
  form?: URLSearchParams
}): Promise<FastifyReply> {
  const { settings } = options
  let value: unknown
  try {
    value = parseJsonText(text)
  } catch (err) {
    return sendError(reply, null, err as RpcError)
  }
  const abort = new CallAbort()
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort(new RpcError(ErrorCode.ABORTED, 'the client closed the connection'))
  })

  // A number id is answered with the literal the client wrote (PROTOCOL.md section 5.3), looked up in the text only
  // for number ids, and for a batch in one pass over it.
  let batchLiterals: Array<string | undefined> | undefined
  const literalOf = (index: number | undefined) => (): string | undefined => index === undefined
    ? callIdLiteral(text)
    : (batchLiterals ??= batchIdLiterals(text))[index]

  // Not async: a single call awaits its run directly, one promise fewer on every small call's way.
  const runOne = (item: unknown, index?: number): { id: ResponseId, notification: boolean, outcome: Outcome | Promise<Outcome>, rule: StatusRule } => {
    const { id, rule } = answerTermsOf(item, literalOf(index))
    let call
    try {
      call = readCall(item, settings.formRedirects)
      if (index === undefined) noteFormTargets(request.raw, call)
    } catch (err) {
      return { id, rule, notification: false, outcome: { kind: 'error', error: err as RpcError } }
    }
    const outcome = runCall({
      call,
      request,
      abort,
      executor: options.executor,
      beforeCall: settings.beforeCall,
      exposeErrors: settings.exposeErrors,
      uploads: options.uploads,
      discover: options.discover,
      fields: options.form === undefined || call.params !== undefined ? undefined : formFieldsOf(options.form)
    })
    return { id, rule, notification: call.notification, outcome }
  }

  if (!Array.isArray(value)) {
    const { id, notification, outcome, rule } = runOne(value)
    return sendOutcome(reply, id, await outcome, { notification, expose: settings.exposeErrors, rule })
  }
  if (!options.allowBatch) {
    return sendError(reply, null, new RpcError(ErrorCode.INVALID_REQUEST, 'batches are accepted only as an application/json body'))
  }
  if (value.length === 0) {
    return sendError(reply, null, new RpcError(ErrorCode.INVALID_REQUEST, 'the batch is empty; send at least one call'))
  }
  if (value.length > settings.limits.batchSize) {
    return sendError(reply, null, limitError('batchSize', settings.limits.batchSize, `a batch of ${value.length} calls`))
  }
  const answers = await Promise.all(value.map(async (item, index) => {
    const answer = runOne(item, index)
    return { ...answer, outcome: await answer.outcome }
  }))
  const body: string[] = []
  for (const { id, notification, outcome } of answers) {
    if (notification) {
      discardOutcome(outcome)
      continue
    }
    body.push(batchEntry(id, outcome))
  }
  if (body.length === 0) return reply.code(204).send()
  return reply.code(200).type('application/json; charset=utf-8').send(`[${body.join(',')}]`)
}

/** The named params of an urlencoded form's fields besides the call's own: a string each, several as an array. */
function formFieldsOf (form: URLSearchParams): () => Promise<Record<string, unknown>> {
  return async () => {
    const texts = new Map<string, string[]>()
    for (const [name, value] of form) {
      if (CALL_FIELD_NAMES.includes(name)) continue
      const values = texts.get(name) ?? []
      values.push(value)
      texts.set(name, values)
    }
    return formParams({ texts, files: new Map() }, undefined, '')
  }
}

function batchEntry (id: ResponseId, outcome: Outcome): string {
  switch (outcome.kind) {
    case 'json': return serializeSuccess(id, outcome.json)
    case 'error': return serializeError(id, outcome.error)
    case 'download':
      discardOutcome(outcome)
      return serializeError(id, new RpcError(ErrorCode.RESULT_NOT_SERIALIZABLE,
        'the method returned a file, which cannot be part of a batch; call it on its own'))
  }
}
