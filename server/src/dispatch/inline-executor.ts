import { ErrorCode, RpcError } from '@formcall/spec'
import { runInCallContext } from './call-context.js'
import type { Execution, Executor } from './executor.js'
import { resolveMethod, type MethodsObject } from './resolve-method.js'

/**
 * Runs methods in the server's own thread: the fastest mode, for tests and trusted code. A method that blocks the
 * event loop or crashes the process takes the server with it; the worker pool is the isolating alternative.
 *
 * @example
 * ```ts
 * createServer({ executor: new InlineExecutor(methods) })
 * ```
 */
export class InlineExecutor implements Executor {
  readonly #methods: MethodsObject
  #closing = false

  constructor (methods: MethodsObject) {
    this.#methods = methods
  }

  assertMethod (method: string): void {
    if (this.#closing) throw new RpcError(ErrorCode.SHUTTING_DOWN, 'the server is shutting down; retry on another instance')
    resolveMethod(this.#methods, method)
  }

  async run ({ method, args, context }: Execution): Promise<unknown> {
    const fn = resolveMethod(this.#methods, method)
    return await runInCallContext(context, () => fn(...args))
  }

  async close (): Promise<void> {
    // Running calls finish on their own: the HTTP server's close waits for their responses.
    this.#closing = true
  }
}
