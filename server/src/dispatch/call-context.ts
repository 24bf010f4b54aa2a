import { AsyncLocalStorage } from 'node:async_hooks'
import type { IncomingHttpHeaders } from 'node:http'
import { ErrorCode, RpcError, type CallId } from '@formcall/spec'
import type { FastifyBaseLogger } from 'fastify'

/**
 * What a method can learn about the call it is running: see {@link callContext}. It is not an argument: a method
 * receives exactly the params its caller sent, so no slot a client fills or leaves empty can hold the request's
 * headers.
 */
export interface CallContext {
  /** The dotted method name. */
  readonly method: string
  /** The call's JSON-RPC id (`null` when it had none). */
  readonly id: CallId
  /** The HTTP request's headers (lower-cased names). */
  readonly headers: IncomingHttpHeaders
  /** The client's IP address. */
  readonly remoteAddress: string
  /** Fires when the client goes away or the call is aborted (timeout, shutdown); the reason is an RpcError. */
  readonly signal: AbortSignal
  /** A logger bound to this request. */
  readonly log: FastifyBaseLogger
}

/**
 * What a before-call hook sees: the method name, the params as sent (placeholders not yet bound to files), krpc's
 * `pmhparams`, and the context.
 */
export interface BeforeCallInfo {
  readonly method: string
  readonly params: unknown
  readonly hookParams: unknown
  readonly context: CallContext
}

/**
 * Runs before every call, after it is parsed and before its method starts (krpc's pre-method hook): throw an
 * `RpcError` (e.g. `UNAUTHORIZED`) to refuse it. A refused call never starts a method or costs a worker.
 *
 * @example
 * ```ts
 * const beforeCall: BeforeCallHook = ({ context }) => {
 *   if (context.headers.authorization !== `Bearer ${token}`) throw new RpcError(ErrorCode.UNAUTHORIZED, 'send a bearer token')
 * }
 * ```
 */
export type BeforeCallHook = (info: BeforeCallInfo) => void | Promise<void>

// One store per thread, shared by every loaded copy of this package (a methods module may resolve its own copy of
// @formcall/server): the key is a registered symbol.
const STORE_KEY = Symbol.for('formcall.callContext')
const store: AsyncLocalStorage<CallContext> = ((globalThis as Record<symbol, unknown>)[STORE_KEY] ??=
  new AsyncLocalStorage<CallContext>()) as AsyncLocalStorage<CallContext>

/**
 * The context of the call running the code that asks: method name, id, request headers, client address, the abort
 * signal and a logger. Works in methods run inline and in worker threads, and in everything they await, however deep.
 *
 * @throws RpcError (`-32603`) when called outside a method call, e.g. at module load or from a timer the method left
 * behind after it returned.
 * @example
 * ```ts
 * import { callContext, type UploadedFile } from '@formcall/server'
 *
 * export default {
 *   async store (file: UploadedFile) {
 *     const { log, signal, remoteAddress } = callContext()
 *     log.info({ from: remoteAddress }, 'storing')
 *     await file.saveTo('/srv/uploads/latest', { signal })
 *   }
 * }
 * ```
 */
export function callContext (): CallContext {
  const context = store.getStore()
  if (context === undefined) {
    throw new RpcError(ErrorCode.INTERNAL_ERROR, 'callContext() was called outside a formcall method call; call it from a method or code the method awaits')
  }
  return context
}

/** The context of the running call, or undefined outside one (for code that must not throw). */
export function activeCallContext (): CallContext | undefined {
  return store.getStore()
}

/** Runs `fn` (a method) with `context` as its {@link callContext}. */
export function runInCallContext<T> (context: CallContext, fn: () => T): T {
  return store.run(context, fn)
}
