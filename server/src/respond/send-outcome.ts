import type { FastifyReply } from 'fastify'
import { errorInfo, httpStatusOf, type RpcError, type StatusRule } from '@formcall/spec'
import { discardOutcome, type Outcome } from '../dispatch/outcome.js'
import type { Download } from '../dispatch/download.js'
import { sendDownload } from './send-download.js'
import { serializeError, serializeSuccess } from './envelope.js'
import type { ResponseId } from '../parse/raw-id.js'
import { lingerAfterAnswer } from './lingering-close.js'
import { isNavigation, sendNavigationError, sendNavigationResult } from './navigation-answer.js'

/**
 * Sends an error envelope with the HTTP status its code has under `rule` (PROTOCOL.md section 8: 200 for JSON-RPC
 * and krpc calls, but for transport codes). An error sent before the request body has arrived (a refused
 * origin, a wrong content type, a limit) closes the connection after a lingering read, so the client reads it
 * instead of a reset, and the server does not read the rest of a body it refused.
 */
export function sendError (reply: FastifyReply, id: ResponseId, error: RpcError, rule: StatusRule = 'status'): FastifyReply {
  const answer = withStatus(reply, httpStatusOf(error.code, rule))
  // A browser navigation (a plain HTML form) gets a page for people instead of the envelope (PROTOCOL.md 13.2).
  if (isNavigation(reply.request.headers)) return sendNavigationError(answer, error)
  return answer.type('application/json; charset=utf-8').send(serializeError(id, error))
}

/**
 * Answers a notification, without a body (PROTOCOL.md section 5.4): 204 whatever became of the call, except when it
 * failed with a transport code (a limit, overload, shutdown: section 8.1), whose status is kept so that proxies and
 * retrying clients see it.
 */
export function sendNotificationAnswer (reply: FastifyReply, failure?: RpcError): FastifyReply {
  const transport = failure !== undefined && errorInfo(failure.code)?.transport === true
  return withStatus(reply, transport ? httpStatusOf(failure.code) : 204).send()
}

/** Sets the status, `Retry-After` for a 503, and the lingering close when the body has not all arrived. */
function withStatus (reply: FastifyReply, status: number): FastifyReply {
  if (!reply.request.raw.complete) {
    reply.header('connection', 'close')
    lingerAfterAnswer(reply.request.raw)
  }
  // A 503 (OVERLOADED, SHUTTING_DOWN) says when to come back, so clients and proxies retry instead of giving up.
  if (status === 503) reply.header('retry-after', '1')
  return reply.code(status)
}

/**
 * Sends a call's outcome: a JSON envelope, a streamed download (PROTOCOL.md section 7), or nothing for a
 * notification. Returns a promise only for a download (settling once it is sent or failed): an envelope is sent at
 * once, and a small call pays for no promise it does not need.
 */
export function sendOutcome (reply: FastifyReply, id: ResponseId, outcome: Outcome, options: {
  notification: boolean
  expose: boolean
  rule: StatusRule
}): FastifyReply | Promise<FastifyReply> {
  if (options.notification) {
    discardOutcome(outcome)
    return sendNotificationAnswer(reply, outcome.kind === 'error' ? outcome.error : undefined)
  }
  switch (outcome.kind) {
    case 'error': return sendError(reply, id, outcome.error, options.rule)
    case 'json':
      if (isNavigation(reply.request.headers)) return sendNavigationResult(reply, outcome.json)
      return reply.code(200).type('application/json; charset=utf-8').send(serializeSuccess(id, outcome.json))
    case 'download': return sendDownloadOutcome(reply, id, outcome.download, options)
  }
}

async function sendDownloadOutcome (reply: FastifyReply, id: ResponseId, download: Download,
  options: { expose: boolean, rule: StatusRule }): Promise<FastifyReply> {
  const failure = await sendDownload(reply, download, { expose: options.expose })
  return failure === undefined ? reply : sendError(reply, id, failure, options.rule)
}
