import type { IncomingMessage } from 'node:http'
import { ErrorCode, RpcError, type StatusRule } from '@formcall/spec'
import type { ResolvedOptions } from '../options.js'
import { parseMultipart, type MultipartParse } from '../parse/parse-multipart.js'
import { answerTermsOf, parseJsonText, readCall, type ParsedCall } from '../parse/read-call.js'
import { callIdLiteral, type ResponseId } from '../parse/raw-id.js'
import { UploadSession } from '../bind/upload-session.js'
import { bodyChunksExclusive } from '../bind/exclusive-chunks.js'
import { formParams } from '../bind/form-params.js'
import { noteFormTargets } from '../respond/navigation-answer.js'
import type { MethodShape } from '../shape/method-shape.js'
import { runCall, type CallRequest, type UploadBindings } from '../dispatch/run-call.js'
import { toRpcError, type Outcome } from '../dispatch/outcome.js'
import { CallAbort } from '../dispatch/call-abort.js'
import type { Executor } from '../dispatch/executor.js'
import { UploadWatchdog } from './upload-watchdog.js'
import type { CallClocks, Deadline } from './deadline-board.js'

/** How a multipart call answers: the HTTP side, kept out of the call's lifetime. */
export interface CallResponder {
  /** Whether an answer can no longer be sent (the connection is gone). */
  readonly gone: boolean
  /**
   * The answer goes out before the request body ended: the rest of the body is not parsed, the connection closes
   * after the answer, and the client is given time to read it first.
   */
  cutBody (): void
  /** Answers with an error envelope, its status by `rule`. */
  error (id: ResponseId, error: RpcError, rule: StatusRule): void
  /** Answers a notification (no body); `failure` keeps a transport code's status. */
  notification (failure: RpcError | undefined): void
  /** Answers with the call's outcome: an envelope, a download, or nothing for a notification. */
  outcome (id: ResponseId, outcome: Outcome, options: { notification: boolean, rule: StatusRule }): void
}

/**
 * One multipart call from its first byte to its answer: starts the method as soon as the `json` part is parsed, feeds
 * it the later parts while they arrive, and answers once both the method and the body are done.
 *
 * When the call fails before the body is complete (a limit, a broken body, the method threw) the error is sent at
 * once and the body is cut (see {@link CallResponder.cutBody}). When the method succeeds first, the rest of the body
 * is read and discarded, so the connection stays usable.
 */
export class MultipartCall {
  readonly #settings: ResolvedOptions
  readonly #executor: Executor
  readonly #uploads: UploadBindings | undefined
  readonly #discover: (() => Promise<string>) | undefined
  readonly #request: CallRequest
  readonly #body: IncomingMessage
  readonly #responder: CallResponder
  readonly #abort = new CallAbort()
  readonly #session: UploadSession
  readonly #watchdog: UploadWatchdog
  readonly #parse: MultipartParse
  readonly #uploadComplete: Promise<void>
  #uploadEnded!: () => void
  readonly #callDeadline: Deadline
  #call: ParsedCall | undefined
  #id: ResponseId = null
  #rule: StatusRule = 'status'
  #outcome: Outcome | undefined
  #responded = false

  constructor (input: {
    body: IncomingMessage
    request: CallRequest
    settings: ResolvedOptions
    executor: Executor
    uploads: UploadBindings | undefined
    /** Answers `rpc.discover`, when discovery is on. */
    discover?: (() => Promise<string>) | undefined
    responder: CallResponder
    /** The server's timers: the `json` part's deadline, the upload's pace. */
    clocks: CallClocks
  }) {
    const { settings, body } = input
    this.#settings = settings
    this.#executor = input.executor
    this.#uploads = input.uploads
    this.#discover = input.discover
    this.#request = input.request
    this.#body = body
    this.#responder = input.responder
    this.#uploadComplete = new Promise<void>((resolve) => { this.#uploadEnded = resolve })
    this.#session = new UploadSession({
      limits: settings.limits,
      tmpDir: settings.tmpDir,
      // Asked before this call adds its own listeners to the body.
      exclusiveChunks: bodyChunksExclusive(body),
      onFailure: (err) => {
        this.#bodyDone()
        this.#abort.abort(err)
        this.#respond()
      }
    })
    this.#watchdog = new UploadWatchdog(input.clocks.uploadWindow, settings.minUploadRate, (err) => this.#session.fail(err))
    body.on('data', (chunk: Buffer) => this.#watchdog.count(chunk.length))
    // The call's JSON is bounded in time as a JSON body is: a client trickling the `json` part holds a connection but
    // no method yet.
    this.#callDeadline = input.clocks.body.add(() => this.#session.fail(new RpcError(ErrorCode.UPLOAD_STALLED,
      `the "json" part did not arrive whole within ${settings.bodyTimeout} ms (bodyTimeout); send the request again`)))
    this.#parse = parseMultipart(body, body.headers, settings.limits, {
      onCall: (text) => {
        this.#callDeadline.cancel()
        const fail = (err: unknown): void => this.#session.fail(toRpcError(err, { fromMethod: false, expose: settings.exposeErrors }))
        try {
          this.#start(text)?.catch(fail)
        } catch (err) {
          fail(err)
        }
      },
      onPart: (part, info) => this.#session.onPart(part, info),
      onEnd: () => {
        this.#bodyDone()
        this.#session.onEnd()
        this.#respond()
      },
      onError: (err) => this.#session.fail(err)
    })
  }

  /** The client went away before the answer was out: the method is aborted and the body no longer read. */
  clientGone (): void {
    const aborted = new RpcError(ErrorCode.ABORTED, 'the client closed the connection before the call finished')
    this.#abort.abort(aborted)
    this.#session.fail(aborted)
    this.#parse.stop()
  }

  /** The exchange is over (answered, or the connection gone): timers stop and spool files go. */
  over (): void {
    this.#callDeadline.cancel()
    this.#watchdog.stop()
    this.#session.cleanup()
  }

  /** The body ended or failed: the method's time may start, and the body's own timers stop. */
  #bodyDone (): void {
    this.#uploadEnded()
    this.#callDeadline.cancel()
    this.#watchdog.stop()
  }

  /**
   * Parses the call and runs it; resolves once it has answered (undefined when the call did not parse). Not an async
   * function: the run's own promise is followed with one `then`, one promise fewer on every multipart call's way.
   */
  #start (text: string): Promise<void> | undefined {
    let call: ParsedCall
    try {
      const value = parseJsonText(text)
      const terms = answerTermsOf(value, () => callIdLiteral(text))
      this.#id = terms.id
      this.#rule = terms.rule
      call = this.#call = readCall(value, this.#settings.formRedirects)
      noteFormTargets(this.#body, call)
    } catch (err) {
      this.#session.fail(err as RpcError)
      return undefined
    }
    const session = this.#session
    // A call without params takes its form's fields as params (PROTOCOL.md 13.3): a plain HTML form names the method
    // only, and its inputs are the params.
    const fields = call.params === undefined
      ? async (shape: MethodShape | undefined) => {
        for (const { name, rule } of shape?.files ?? []) session.constrain(name, { rule, param: name })
        return formParams(await session.collectForm(), shape, call.method)
      }
      : undefined
    return runCall({
      call,
      request: this.#request,
      abort: this.#abort,
      executor: this.#executor,
      beforeCall: this.#settings.beforeCall,
      exposeErrors: this.#settings.exposeErrors,
      binder: session,
      uploads: this.#uploads,
      discover: this.#discover,
      fields,
      onBound: () => session.bind(),
      uploadComplete: this.#uploadComplete,
      uploadHold: this.#watchdog
    }).then((outcome) => {
      this.#outcome = outcome
      session.settle()
      this.#respond()
    })
  }

  /** Answers once there is something to say: a failure at once, a success once the body is complete too. */
  #respond (): void {
    if (this.#responded || this.#responder.gone) return
    const failure = this.#session.failure
    const outcome = this.#outcome
    if (failure === undefined && (outcome === undefined || (outcome.kind !== 'error' && !this.#session.ended))) return
    this.#responded = true
    if (!this.#session.ended) {
      this.#parse.stop()
      this.#responder.cutBody()
    }
    const notification = this.#call?.notification === true
    // A notification is answered without a body whatever became of it (PROTOCOL.md section 5.4), a failed upload
    // included, once its call was parsed.
    if (failure !== undefined && notification) this.#responder.notification(failure)
    else if (failure !== undefined) this.#responder.error(this.#id, failure, this.#rule)
    else this.#responder.outcome(this.#id, outcome as Outcome, { notification, rule: this.#rule })
  }
}
