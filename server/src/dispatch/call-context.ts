import type { IncomingHttpHeaders } from 'node:http'
import type { CallId } from '@formcall/spec'
import type { FastifyBaseLogger } from 'fastify'

/**
 * The last argument every method receives.
 *
 * @example
 * ```ts
 * async function store (file: UploadedFile, ctx: CallContext) {
 *   ctx.log.info({ from: ctx.remoteAddress }, 'storing')
 *   await file.saveTo(dest, { signal: ctx.signal })
 * }
 * ```
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
