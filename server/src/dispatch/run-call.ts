import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { CallId } from '@formcall/spec'
import type { ParsedCall } from '../parse/read-call.js'
import { bindPlaceholders, type PartBinder } from '../bind/bind-placeholders.js'
import { CallBinder, type CallUploads } from '../bind/call-binder.js'
import { toRpcError, type Outcome } from './outcome.js'
import { arrangeArgs, fileRulesOf, type MethodShape } from '../shape/method-shape.js'
import type { BeforeCallHook, CallContext } from './call-context.js'
import type { CallAbort } from './call-abort.js'
import type { Executor, UploadHold } from './executor.js'
import { DISCOVER_METHOD } from '../describe/openrpc.js'

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
  readonly binder?: PartBinder
  /** The server's resumable uploads, when enabled: `$upload` placeholders bind to them. */
  readonly uploads?: UploadBindings | undefined
  /**
   * Runs once placeholders are bound and may delay the start (the multipart path waits for the first file's headers,
   * so `file.filename` is known when the method starts).
   */
  readonly onBound?: () => Promise<void>
  /**
   * Answers `rpc.discover` (OpenRPC service discovery) with the JSON text of the server's description; absent when discovery is off,
   * and the name is then looked up like any other. Runs after the before-call hook, which can refuse it.
   */
  readonly discover?: (() => Promise<string>) | undefined
  /**
   * The call's params are its form's fields (PROTOCOL.md 13.3): resolves with them as one named-params object once
   * they have arrived. Asked after the before-call hook and the method lookup, with the method's shape, so the
   * method's file rules hold the files as they arrive.
   */
  readonly fields?: (shape: MethodShape | undefined) => Promise<Record<string, unknown>>
  readonly uploadComplete?: Promise<void>
  readonly uploadHold?: UploadHold
}

/** Where a call's `$upload` placeholders are bound from: the server's upload store. */
export interface UploadBindings {
  /** The uploads of one call; `log` is the request's, for faults of the store. */
  forCall (log: FastifyBaseLogger): CallUploads
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
  let uploads: CallUploads | undefined
  let outcome: Outcome | undefined
  try {
    if (run.beforeCall !== undefined) {
      await run.beforeCall({ method: call.method, params: call.params, hookParams: call.hookParams, context })
    }
    if (run.discover !== undefined && call.method === DISCOVER_METHOD) return { kind: 'json', json: await run.discover() }
    const shape = executor.assertMethod(call.method)
    const named = run.fields === undefined ? undefined : await run.fields(shape)
    const sent = named === undefined ? call.args : [named]
    const params = shape === undefined ? sent : arrangeArgs(shape, call.method, named ?? call.params, sent)
    uploads = run.uploads?.forCall(context.log)
    // No binder at all for a call without parts on a server without uploads: its placeholders fail as such.
    const binder = run.binder === undefined && uploads === undefined ? undefined : new CallBinder(run.binder, uploads)
    if (shape !== undefined && shape.files.length > 0) {
      for (const { target, param } of fileRulesOf(shape, call.method, params)) binder?.hold(target, param)
    }
    const { args, files } = bindPlaceholders(params, binder)
    // Every upload is checked and opened before the method may start: a call whose uploads do not all pass never runs.
    // (Awaited only when there are uploads: an `await` is a microtask every call would pay.)
    if (uploads !== undefined) await uploads.open()
    if (run.onBound !== undefined) await run.onBound()
    if (abort.aborted) throw abort.reason
    inMethod = true
    outcome = await executor.run({
      method: call.method,
      args,
      params,
      files,
      context,
      onAbort: (listener) => abort.onAbort(listener),
      uploadComplete: run.uploadComplete ?? UPLOAD_COMPLETE,
      ...(run.uploadHold === undefined ? {} : { uploadHold: run.uploadHold })
    })
    return outcome
  } catch (err) {
    return { kind: 'error', error: toRpcError(abort.reason ?? err, { fromMethod: inMethod, expose: run.exposeErrors }) }
  } finally {
    if (uploads !== undefined) {
      await uploads.settle({ succeeded: outcome !== undefined && outcome.kind !== 'error', download: outcome?.kind === 'download' })
    }
  }
}
