import { ErrorCode, RpcError } from '@formcall/spec'
import { runInCallContext } from './call-context.js'
import type { Execution, Executor } from './executor.js'
import { outcomeOfResult, type Outcome } from './outcome.js'
import { resolveMethod, type MethodFunction, type MethodsObject } from './resolve-method.js'
import { shapeOf, type MethodShape } from '../shape/method-shape.js'
import { describeMethods, type MethodsDescription } from '../describe/openrpc.js'

/**
 * Runs methods in the server's own thread: the fastest mode, for tests and trusted code. A method that blocks the
 * event loop or crashes the process takes the server with it; the worker pool is the isolating alternative.
 * Each method name is looked up in the methods object once, at its first call: a function put on the object later
 * under a name already called is not seen.
 *
 * @example
 * ```ts
 * createServer({ executor: new InlineExecutor(methods) })
 * ```
 */
export class InlineExecutor implements Executor {
  readonly #methods: MethodsObject
  /** Functions found for method names, so a call looks its method up once (assertMethod), not again to run it. */
  readonly #found = new Map<string, { fn: MethodFunction, shape: MethodShape }>()
  #closing = false
  #description: MethodsDescription | undefined

  constructor (methods: MethodsObject) {
    this.#methods = methods
  }

  assertMethod (method: string): MethodShape {
    if (this.#closing) throw new RpcError(ErrorCode.SHUTTING_DOWN, 'the server is shutting down; retry on another instance')
    return this.#resolve(method).shape
  }

  run ({ method, args, context }: Execution): Promise<Outcome> {
    const { fn } = this.#resolve(method)
    // Not async: an async method's own promise is followed with one `then`, where an async run() and its await
    // made two more promises per call. A method that throws at once throws out of run(), which the dispatch step
    // awaits inside its try as it would a rejection.
    const result: unknown = runInCallContext(context, () => fn(...args))
    if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
      return Promise.resolve(result).then(outcomeOfResult)
    }
    return Promise.resolve(outcomeOfResult(result))
  }

  /** The methods' description, made once (the methods object is read as it is at the first call). */
  async describe (): Promise<MethodsDescription> {
    this.#description ??= describeMethods(this.#methods)
    return this.#description
  }

  #resolve (method: string): { fn: MethodFunction, shape: MethodShape } {
    let found = this.#found.get(method)
    if (found === undefined) {
      const fn = resolveMethod(this.#methods, method)
      found = { fn, shape: shapeOf(fn) }
      // Bounded by the methods object: only names that resolved are kept.
      this.#found.set(method, found)
    }
    return found
  }

  async close (): Promise<void> {
    // Running calls finish on their own: the HTTP server's close waits for their responses.
    this.#closing = true
  }
}
