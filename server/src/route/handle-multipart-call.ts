import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RpcError, StatusRule } from '@formcall/spec'
import type { ResolvedOptions } from '../options.js'
import type { Executor } from '../dispatch/executor.js'
import type { UploadBindings } from '../dispatch/run-call.js'
import type { Outcome } from '../dispatch/outcome.js'
import type { ResponseId } from '../parse/raw-id.js'
import { sendError, sendNotificationAnswer, sendOutcome } from '../respond/send-outcome.js'
import { lingerAfterAnswer } from '../respond/lingering-close.js'
import { MultipartCall, type CallResponder } from './multipart-call.js'
import type { CallClocks } from './deadline-board.js'

/**
 * Answers a multipart call on Fastify: a {@link MultipartCall} over the request's body, answering through the reply
 * once the call is done. Returns at once: the call's lifetime ends with the reply's `close`.
 */
export function handleMultipartCall (request: FastifyRequest, reply: FastifyReply, options: {
  executor: Executor
  settings: ResolvedOptions
  uploads?: UploadBindings | undefined
  /** Answers `rpc.discover`, when discovery is on. */
  discover?: (() => Promise<string>) | undefined
  clocks: CallClocks
}): void {
  const { settings } = options
  const responder = new ReplyResponder(request, reply, settings.exposeErrors)
  const call = new MultipartCall({ body: request.raw, request, settings, executor: options.executor, uploads: options.uploads, discover: options.discover, responder, clocks: options.clocks })
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) call.clientGone()
    call.over()
  })
}

/**
 * A {@link CallResponder} over a Fastify reply. A class, not an object literal with a getter: V8 gives every such
 * literal a hidden class of its own, kept in old space with the getter's closure, and so with the whole request, past
 * every young-generation collection. Small multipart calls then spent several times bare Fastify's time in the
 * garbage collector.
 */
class ReplyResponder implements CallResponder {
  readonly #request: FastifyRequest
  readonly #reply: FastifyReply
  readonly #expose: boolean

  constructor (request: FastifyRequest, reply: FastifyReply, expose: boolean) {
    this.#request = request
    this.#reply = reply
    this.#expose = expose
  }

  get gone (): boolean { return this.#reply.raw.destroyed }

  cutBody (): void {
    lingerAfterAnswer(this.#request.raw)
    this.#reply.header('connection', 'close')
  }

  error (id: ResponseId, error: RpcError, rule: StatusRule): void { sendError(this.#reply, id, error, rule) }

  notification (failure: RpcError | undefined): void { sendNotificationAnswer(this.#reply, failure) }

  outcome (id: ResponseId, outcome: Outcome, options: { notification: boolean, rule: StatusRule }): void {
    // Written out, not `{ ...options, expose }`: V8 gave every such spread-and-add a hidden class of its own, in old
    // space, one per call (seen with --log-maps); with it each small multipart call's objects outlived the young
    // generation and the server spent a quarter of its time collecting them.
    const sent = sendOutcome(this.#reply, id, outcome, { notification: options.notification, rule: options.rule, expose: this.#expose })
    if (sent instanceof Promise) sent.catch((err: unknown) => this.#request.log.error(err, 'sending a formcall response failed'))
  }
}
