import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, RpcError, type StatusRule } from '@formcall/spec'
import type { ResolvedOptions } from '../options.js'
import { parseMultipart } from '../parse/parse-multipart.js'
import { answerTermsOf, parseJsonText, readCall, type ParsedCall } from '../parse/read-call.js'
import { callIdLiteral, type ResponseId } from '../parse/raw-id.js'
import { UploadSession } from '../bind/upload-session.js'
import { makeContext, runCall, type Outcome } from '../dispatch/run-call.js'
import type { Executor } from '../dispatch/executor.js'
import { sendError, sendNotificationAnswer, sendOutcome } from '../respond/send-outcome.js'
import { toRpcError } from '../respond/envelope.js'
import { UploadWatchdog } from './upload-watchdog.js'
import { lingerAfterAnswer } from '../respond/lingering-close.js'

/**
 * Answers a multipart call: starts the method as soon as the `json` part is parsed, feeds it the later parts while
 * they arrive, and answers once both the method and the body are done.
 *
 * When the call fails before the body is complete (a limit, a broken body, the method threw) the error is sent at
 * once with `Connection: close`, and the client is given time to read it before the connection is cut (see
 * {@link lingerAfterAnswer}). When the method succeeds first, the rest of the body is read and discarded, so the
 * connection stays usable.
 */
export async function handleMultipartCall (request: FastifyRequest, reply: FastifyReply, options: {
  executor: Executor
  settings: ResolvedOptions
}): Promise<FastifyReply> {
  const { settings } = options
  const controller = new AbortController()
  let call: ParsedCall | undefined
  let id: ResponseId = null
  let rule: StatusRule = 'status'
  let outcome: Outcome | undefined
  let responded = false
  let finish!: () => void
  const done = new Promise<void>((resolve) => { finish = resolve })
  let uploadEnded!: () => void
  const uploadComplete = new Promise<void>((resolve) => { uploadEnded = resolve })

  const session = new UploadSession({
    limits: settings.limits,
    tmpDir: settings.tmpDir,
    onFailure: (err) => {
      uploadEnded()
      controller.abort(err)
      respond()
    }
  })
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) {
      const aborted = new RpcError(ErrorCode.ABORTED, 'the client closed the connection before the call finished')
      controller.abort(aborted)
      session.fail(aborted)
      parse.stop()
    }
    session.cleanup()
    finish()
  })

  const watchdog = new UploadWatchdog({ window: settings.idleUploadTimeout, minRate: settings.minUploadRate },
    (err) => session.fail(err))

  const respond = (): void => {
    if (responded || reply.raw.destroyed) return
    const failure = session.failure
    if (failure === undefined && (outcome === undefined || (outcome.ok && !session.ended))) return
    responded = true
    if (!session.ended) {
      parse.stop()
      lingerAfterAnswer(request.raw)
      reply.header('connection', 'close')
    }
    // A notification is answered without a body whatever became of it (PROTOCOL.md section 5.4), a failed upload
    // included, once its call was parsed.
    if (failure !== undefined && call?.notification === true) sendNotificationAnswer(reply, failure)
    else if (failure !== undefined) sendError(reply, id, failure, rule)
    else {
      sendOutcome(reply, id, outcome as Outcome, { notification: call?.notification ?? false, expose: settings.exposeErrors, rule })
        .catch((err: unknown) => request.log.error(err, 'sending a formcall response failed'))
    }
  }

  const start = async (text: string): Promise<void> => {
    let value: unknown
    try {
      value = parseJsonText(text)
      const terms = answerTermsOf(value, () => callIdLiteral(text))
      id = terms.id
      rule = terms.rule
      call = readCall(value)
    } catch (err) {
      session.fail(err as RpcError)
      return
    }
    const context = makeContext(request, call, controller.signal)
    outcome = await runCall({
      call,
      context,
      executor: options.executor,
      settings,
      binder: session,
      onBound: async () => await session.bind(),
      uploadComplete,
      uploadHold: watchdog
    })
    session.settle()
    respond()
  }

  // The call's JSON is bounded in time as a JSON body is: a client trickling the `json` part holds a connection but
  // no method yet.
  const callDeadline = settings.bodyTimeout > 0
    ? setTimeout(() => {
      session.fail(new RpcError(ErrorCode.UPLOAD_STALLED,
        `the "json" part did not arrive whole within ${settings.bodyTimeout} ms (bodyTimeout); send the request again`))
    }, settings.bodyTimeout)
    : undefined
  reply.raw.once('close', () => clearTimeout(callDeadline))
  void uploadComplete.then(() => clearTimeout(callDeadline))

  request.raw.on('data', (chunk: Buffer) => watchdog.count(chunk.length))
  void uploadComplete.then(() => watchdog.stop())
  reply.raw.once('close', () => watchdog.stop())

  const parse = parseMultipart(request.raw, request.headers, settings.limits, {
    onCall: (text) => {
      clearTimeout(callDeadline)
      start(text).catch((err: unknown) => session.fail(toRpcError(err, { fromMethod: false, expose: settings.exposeErrors })))
    },
    onPart: (part, info) => session.onPart(part, info),
    onEnd: () => {
      uploadEnded()
      session.onEnd()
      respond()
    },
    onError: (err) => session.fail(err)
  })

  await done
  return reply
}
