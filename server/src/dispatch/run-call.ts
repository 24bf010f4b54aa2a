import type { FastifyRequest } from 'fastify'
import { RpcError } from '@formcall/spec'
import type { ResolvedOptions } from '../options.js'
import type { ParsedCall } from '../parse/read-call.js'
import { bindPlaceholders, type FileBinder } from '../bind/bind-placeholders.js'
import { toRpcError } from '../respond/envelope.js'
import type { CallContext } from './call-context.js'
import type { Executor, UploadHold } from './executor.js'

/** How a call ended: a result, or the RpcError to send. */
export type Outcome = { ok: true, result: unknown } | { ok: false, error: RpcError }

/** The context a method of this request sees. */
export function makeContext (request: FastifyRequest, call: Pick<ParsedCall, 'method' | 'id'>, signal: AbortSignal): CallContext {
  return {
    method: call.method,
    id: call.id,
    headers: request.headers,
    remoteAddress: request.ip,
    signal,
    log: request.log
  }
}

/**
 * The dispatch step shared by every encoding: before-call hook, method lookup, placeholder binding, execution.
 * Everything before the method runs is cheap and happens on the HTTP side, so a refused call never costs a worker.
 *
 * `onBound` runs once placeholders are bound and may delay the start (the multipart path waits for the first file's
 * headers, so `file.filename` is known when the method starts).
 */
export async function runCall (options: {
  call: ParsedCall
  context: CallContext
  executor: Executor
  settings: ResolvedOptions
  binder: FileBinder | undefined
  onBound?: () => Promise<void>
  uploadComplete?: Promise<void>
  uploadHold?: UploadHold
}): Promise<Outcome> {
  const { call, context, executor, settings } = options
  let inMethod = false
  try {
    if (settings.beforeCall !== undefined) {
      await settings.beforeCall({ method: call.method, params: call.params, hookParams: call.hookParams, context })
    }
    executor.assertMethod(call.method)
    const args = [...call.args]
    bindPlaceholders(args, options.binder)
    await options.onBound?.()
    context.signal.throwIfAborted()
    inMethod = true
    return {
      ok: true,
      result: await executor.run({
        method: call.method,
        args,
        context,
        uploadComplete: options.uploadComplete ?? Promise.resolve(),
        ...(options.uploadHold === undefined ? {} : { uploadHold: options.uploadHold })
      })
    }
  } catch (err) {
    const reason: unknown = context.signal.aborted ? context.signal.reason : undefined
    return { ok: false, error: toRpcError(reason instanceof RpcError ? reason : err, { fromMethod: inMethod, expose: settings.exposeErrors }) }
  }
}
