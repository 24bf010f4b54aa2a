import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, RpcError, type CallId } from '@formcall/spec'
import type { ResolvedOptions } from '../options.js'
import { parseMultipart } from '../parse/parse-multipart.js'
import { idOf, parseJsonText, readCall, type ParsedCall } from '../parse/read-call.js'
import { UploadSession } from '../bind/upload-session.js'
import { makeContext, runCall, type Outcome } from '../dispatch/run-call.js'
import type { Executor } from '../dispatch/executor.js'
import { sendError, sendOutcome } from '../respond/send-outcome.js'

/**
 * Answers a multipart call: starts the method as soon as the `json` part is parsed, feeds it the later parts while
 * they arrive, and answers once both the method and the body are done.
 *
 * When the call fails before the body is complete (a limit, a broken body, the method threw) the error is sent at
 * once with `Connection: close`, rather than reading gigabytes nobody needs. When the method succeeds first, the rest
 * of the body is read and discarded, so the connection stays usable.
 */
export async function handleMultipartCall (request: FastifyRequest, reply: FastifyReply, options: {
  executor: Executor
  settings: ResolvedOptions
}): Promise<FastifyReply> {
  const { settings } = options
  const controller = new AbortController()
  let call: ParsedCall | undefined
  let id: CallId = null
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

  const respond = (): void => {
    if (responded || reply.raw.destroyed) return
    const failure = session.failure
    if (failure === undefined && (outcome === undefined || (outcome.ok && !session.ended))) return
    responded = true
    if (!session.ended) {
      // Stop reading an upload that no longer has a use; the client gets the answer, then the connection closes.
      parse.stop()
      reply.header('connection', 'close')
    }
    if (failure !== undefined) sendError(reply, id, failure)
    else {
      sendOutcome(reply, id, outcome as Outcome, { notification: call?.notification ?? false, expose: settings.exposeErrors })
        .catch((err: unknown) => request.log.error(err, 'sending a formcall response failed'))
    }
  }

  const start = async (text: string): Promise<void> => {
    let value: unknown
    try {
      value = parseJsonText(text)
      id = idOf(value)
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
      uploadComplete
    })
    session.settle()
    respond()
  }

  if (settings.idleUploadTimeout > 0) {
    const idle = setTimeout(() => {
      session.fail(new RpcError(ErrorCode.UPLOAD_STALLED,
        `no upload bytes arrived for ${settings.idleUploadTimeout} ms (the client stalled, or the method stopped reading its files); send the request again`))
    }, settings.idleUploadTimeout)
    request.raw.on('data', () => idle.refresh())
    void uploadComplete.then(() => clearTimeout(idle))
    reply.raw.once('close', () => clearTimeout(idle))
  }

  const parse = parseMultipart(request.raw, request.headers, settings.limits, {
    onCall: (text) => { void start(text) },
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
