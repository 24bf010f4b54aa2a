import type { CallContext } from './call-context.js'

/** One method run, as the dispatch seam hands it to an executor. */
export interface Execution {
  /** The dotted method name, already checked with {@link Executor.assertMethod}. */
  readonly method: string
  /** Arguments with placeholders bound to file objects; the executor appends the context. */
  readonly args: readonly unknown[]
  readonly context: CallContext
}

/**
 * The seam between the HTTP side and the code that runs methods: in-process ({@link InlineExecutor}) or in a pool of
 * worker threads. Everything before it (parsing, limits, the before-call hook, file binding) and after it (responses,
 * downloads) is the same for both.
 */
export interface Executor {
  /** Throws METHOD_NOT_FOUND unless `method` names a callable method; runs before any file is bound. */
  assertMethod (method: string): void
  /** Runs the method; resolves with its result or rejects with what it threw. */
  run (execution: Execution): Promise<unknown>
  /** Stops taking work and releases resources. */
  close (): Promise<void>
}
