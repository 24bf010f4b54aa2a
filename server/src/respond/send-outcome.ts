import type { FastifyReply } from 'fastify'
import { httpStatusOf, type CallId, type RpcError } from '@formcall/spec'
import type { Outcome } from '../dispatch/run-call.js'
import { asDownload } from './download.js'
import { sendDownload } from './send-download.js'
import { errorEnvelope, serializeSuccess } from './envelope.js'

/** Sends an error envelope with its code's HTTP status. */
export function sendError (reply: FastifyReply, id: CallId, error: RpcError): FastifyReply {
  const status = httpStatusOf(error.code)
  // A 503 (OVERLOADED, SHUTTING_DOWN) says when to come back, so clients and proxies retry instead of giving up.
  if (status === 503) reply.header('retry-after', '1')
  return reply.code(status).type('application/json; charset=utf-8')
    .send(JSON.stringify(errorEnvelope(id, error)))
}

/**
 * Sends a call's outcome: a JSON envelope, a streamed download (PROTOCOL.md section 7), or nothing for a
 * notification.
 */
export async function sendOutcome (reply: FastifyReply, id: CallId, outcome: Outcome, options: {
  notification: boolean
  expose: boolean
}): Promise<FastifyReply> {
  if (options.notification) return reply.code(204).send()
  if (!outcome.ok) return sendError(reply, id, outcome.error)
  const download = asDownload(outcome.result)
  if (download !== undefined) {
    const failure = await sendDownload(reply, download, { expose: options.expose })
    return failure === undefined ? reply : sendError(reply, id, failure)
  }
  let text: string
  try {
    text = serializeSuccess(id, outcome.result)
  } catch (err) {
    return sendError(reply, id, err as RpcError)
  }
  return reply.code(200).type('application/json; charset=utf-8').send(text)
}
