import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ResolvedOptions } from '../options.js'
import type { Executor } from '../dispatch/executor.js'
import { sendError, sendNotificationAnswer, sendOutcome } from '../respond/send-outcome.js'
import { lingerAfterAnswer } from '../respond/lingering-close.js'
import { MultipartCall, type CallResponder } from './multipart-call.js'

/**
 * Answers a multipart call on Fastify: a {@link MultipartCall} over the request's body, answering through the reply.
 * Resolves once the exchange is over (the answer sent, or the connection gone).
 */
export async function handleMultipartCall (request: FastifyRequest, reply: FastifyReply, options: {
  executor: Executor
  settings: ResolvedOptions
}): Promise<FastifyReply> {
  const { settings } = options
  const responder: CallResponder = {
    get gone () { return reply.raw.destroyed },
    cutBody: () => {
      lingerAfterAnswer(request.raw)
      reply.header('connection', 'close')
    },
    error: (id, error, rule) => { sendError(reply, id, error, rule) },
    notification: (failure) => { sendNotificationAnswer(reply, failure) },
    outcome: (id, outcome, { notification, rule }) => {
      sendOutcome(reply, id, outcome, { notification, expose: settings.exposeErrors, rule })
        .catch((err: unknown) => request.log.error(err, 'sending a formcall response failed'))
    }
  }
  const call = new MultipartCall({ body: request.raw, request, settings, executor: options.executor, responder })
  await new Promise<void>((resolve) => {
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) call.clientGone()
      call.over()
      resolve()
    })
  })
  return reply
}
