import type { RpcError } from '@formcall/spec'
import type { UploadedFile, UploadedFiles } from '../bind/uploaded-file.js'
import type { CallContext } from './call-context.js'
import type { Outcome } from './outcome.js'
import type { MethodShape } from '../shape/method-shape.js'
import type { MethodsDescription } from '../describe/openrpc.js'

/** One method run, as the dispatch seam hands it to an executor. */
export interface Execution {
  /** The dotted method name, already checked with {@link Executor.assertMethod}. */
  readonly method: string
  /** Arguments with placeholders bound to file objects: exactly the params the caller sent. */
  readonly args: readonly unknown[]
  /**
   * The params as they came on the wire, placeholders unbound. An executor that runs the method elsewhere (a worker)
   * sends these and binds them there, with the same binder, against its own link to {@link files}.
   */
  readonly params: readonly unknown[]
  /** The file objects the placeholders were bound to, by part name, in binding order; empty without files. */
  readonly files: ReadonlyMap<string, UploadedFile | UploadedFiles>
  /** What the method's {@link callContext} returns while it runs. */
  readonly context: CallContext
  /**
   * Hears the call's abort without making `context.signal` (an AbortSignal per call is a measurable cost): calls the
   * listener once the call is aborted, with the reason; returns the way to stop listening. Absent for executions
   * made elsewhere than formcall's own HTTP handlers: use `context.signal` then.
   */
  readonly onAbort?: (listener: (reason: RpcError) => void) => () => void
  /**
   * Settles when the request body is complete (at once for calls without parts). The call timeout counts from here,
   * so a long upload that the method is reading is not mistaken for a hung method.
   */
  readonly uploadComplete: Promise<void>
  /**
   * Tells the upload's watchdog while the executor keeps the call waiting (for a worker or an upload lane): the
   * client's bytes are not read meanwhile, which is not the client stalling.
   */
  readonly uploadHold?: UploadHold
}

/** See {@link Execution.uploadHold}. */
export interface UploadHold {
  pause (): void
  resume (): void
}

/**
 * The seam between the HTTP side and the code that runs methods: in-process ({@link InlineExecutor}) or in a pool of
 * worker threads. Everything before it (parsing, limits, the before-call hook, file binding) and after it (responses,
 * downloads) is the same for both.
 */
export interface Executor {
  /** Prepares the executor (starts workers, learns method names); awaited before the server listens. */
  start? (): Promise<void>
  /**
   * Throws METHOD_NOT_FOUND unless `method` names a callable method; runs before any file is bound. Returns what is
   * known of the method's params (arity, names, file rules), which the dispatch step enforces, or undefined when
   * nothing is (every call is then passed through as sent).
   */
  assertMethod (method: string): MethodShape | undefined
  /**
   * Runs the method and resolves with its {@link Outcome}, classified where it returned; may instead reject with, or
   * throw, what the method threw (the dispatch step turns either into the error outcome).
   */
  run (execution: Execution): Promise<Outcome>
  /**
   * Describes every method for OpenRPC discovery (`rpc.discover`), where the methods' schemas are: in this thread, or
   * in a worker. Optional: without it, a server has no discovery. The server asks once and keeps the answer.
   */
  describe? (): Promise<MethodsDescription>
  /** Stops taking work, gives running calls up to `graceMs` to finish, then releases resources. */
  close (graceMs?: number): Promise<void>
}
