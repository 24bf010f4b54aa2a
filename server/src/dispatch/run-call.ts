import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { CallId } from '@formcall/spec'
import type { ParsedCall } from '../parse/read-call.js'
import { bindPlaceholders, type FileBinder } from '../bind/bind-placeholders.js'
import { toRpcError, type Outcome } from './outcome.js'
import type { BeforeCallHook, CallContext } from './call-context.js'
import type { CallAbort } from './call-abort.js'
import type { Executor, UploadHold } from './executor.js'

/** What a call's context takes from its HTTP request (a Fastify request has it). */
export type CallRequest = Pick<FastifyRequest, 'headers' | 'ip' | 'log'>

/** The context of a call made over HTTP: its signal exists only once a method or the executor asks for it. */
class RequestCallContext implements CallContext {
  readonly method: string
  readonly id: CallId
  readonly headers: IncomingHttpHeaders
  readonly remoteAddress: string
  readonly log: FastifyBaseLogger
  readonly #abort: CallAbort

  constructor (request: CallRequest, call: Pick<ParsedCall, 'method' | 'id'>, abort: CallAbort) {
    this.method = call.method
    this.id = call.id
    this.headers = request.headers
    this.remoteAddress = request.ip
    this.log = request.log
    this.#abort = abort
  }

  get signal (): AbortSignal { return this.#abort.signal }
}

/** What {@link runCall} needs besides the call. */
export interface CallRun {
  readonly call: ParsedCall
  readonly request: CallRequest
  readonly abort: CallAbort
  readonly executor: Executor
  readonly beforeCall: BeforeCallHook | undefined
  readonly exposeErrors: boolean
  /** The request's parts, for a multipart call. */
  readonly binder?: FileBinder
  /**
   * Runs once placeholders are bound and may delay the start (the multipart path waits for the first file's headers,
   * so `file.filename` is known when the method starts).
   */
  readonly onBound?: () => Promise<void>
  readonly uploadComplete?: Promise<void>
  readonly uploadHold?: UploadHold
}

const UPLOAD_COMPLETE = Promise.resolve()

/**
 * The dispatch step shared by every encoding: before-call hook, method lookup, placeholder binding, execution.
 * Everything before the method runs is cheap and happens on the HTTP side, so a refused call never costs a worker.
 * Never rejects: whatever fails becomes the error outcome.
 */
export async function runCall (run: CallRun): Promise<Outcome> {
  const { call, abort, executor } = run
  const context = new RequestCallContext(run.request, call, abort)
  let inMethod = false
  try {
    if (run.beforeCall !== undefined) {
      await run.beforeCall({ method: call.method, params: call.params, hookParams: call.hookParams, context })
    }
    executor.assertMethod(call.method)
    const { args, files } = bindPlaceholders(call.args, run.binder)
    if (run.onBound !== undefined) await run.onBound()
    if (abort.aborted) throw abort.reason
    inMethod = true
    return await executor.run({
      method: call.method,
      args,
      params: call.args,
      files,
      context,
      onAbort: (listener) => abort.onAbort(listener),
      uploadComplete: run.uploadComplete ?? UPLOAD_COMPLETE,
      ...(run.uploadHold === undefined ? {} : { uploadHold: run.uploadHold })
    })
  } catch (err) {
    return { kind: 'error', error: toRpcError(abort.reason ?? err, { fromMethod: inMethod, expose: run.exposeErrors }) }
  }
}
