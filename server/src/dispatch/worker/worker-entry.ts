/**
 * The code each pool worker runs: imports the methods module once, then runs one call per task (see messages.ts for
 * what crosses the thread boundary).
 *
 * An exception thrown where no call can catch it (a timer callback, an unawaited promise) is charged to the call
 * whose code scheduled it, found through the call context that async work carries: if that call is still running it
 * fails with WORKER_CRASHED and the worker exits at once. If that call already finished, or no call scheduled it, no
 * running call is to blame: the error is reported to the pool (and logged there), running calls finish, and the
 * worker retires once it is idle (see {@link WorkerLife}).
 */
import type { Readable } from 'node:stream'
import { BroadcastChannel, MessageChannel, parentPort, threadId, workerData, type MessagePort } from 'node:worker_threads'
import { ErrorCode, RpcError } from '@formcall/spec'
import { bindPlaceholders } from '../../bind/bind-placeholders.js'
import { outcomeOfResult, toRpcError } from '../outcome.js'
import { listMethods, resolveMethod, type MethodsObject } from '../resolve-method.js'
import { shapeOf } from '../../shape/method-shape.js'
import { activeCallContext, runInCallContext, type CallContext } from '../call-context.js'
import { CallAbort } from '../call-abort.js'
import { methodsOf } from '../../load-methods.js'
import { importModule } from '../../import-module.js'
import type { Download } from '../download.js'
import { CreditSender } from './credit-flow.js'
import { PortFiles } from './port-files.js'
import { PortLogger } from './port-logger.js'
import { StartBoard } from './start-board.js'
import {
  RETIRING, type CallReport, type CallTask, type Control, type DownloadToMain, type DownloadToWorker, type PoolNotice,
  type RecyclePolicy, type StartupData, type WireOutcome, type WorkerToMain, type ListTask, type MethodListing, type DescribeTask
} from './messages.js'
import type { MethodsDescription } from '../../describe/openrpc.js'

const { methodsModule, recycle, control, board: boardMemory, boardSlots } = workerData as StartupData
const board = new StartBoard(boardSlots, boardMemory)
const up = parentPort as MessagePort

/** Calls aborted before they reached this worker are remembered this long (by count), in case one still comes. */
const EARLY_ABORTS_KEPT = 4096

/**
 * The calls this worker runs and whether it should leave the pool. Errors nothing catches are attributed here; a
 * worker retires (exits when idle, and the pool starts a fresh one) after an error no running call owns and, as
 * {@link RecyclePolicy} says, after calls that left work behind.
 */
class WorkerLife {
  readonly #running = new Map<number, WorkerCall>()
  readonly #owners = new WeakMap<CallContext, WorkerCall>()
  /** Calls aborted that had not reached this worker: a task for one of them fails at once. */
  readonly #abortedEarly = new Map<number, RpcError>()
  readonly #policy: RecyclePolicy
  #retiring = false
  #retireSent = false

  constructor (policy: RecyclePolicy, controlChannel: string) {
    this.#policy = policy
    const channel = new BroadcastChannel(controlChannel)
    channel.unref()
    channel.onmessage = (event) => this.#control((event as { data: Control }).data)
    process.on('uncaughtException', (err) => this.#uncaught(err))
    process.on('unhandledRejection', (err) => this.#uncaught(err))
  }

  /**
   * Runs `call` and decides, once it ended, whether this worker may take another. Resolves with the call's outcome
   * when it goes back as the task's result (see {@link WorkerCall.run}).
   */
  async run (call: WorkerCall): Promise<WireOutcome | undefined> {
    // Once retiring, no new call starts here, so none sees what made this worker retire; the pool retries it.
    if (this.#retiring) throw new Error(`${RETIRING}${threadId}`)
    const early = this.#abortedEarly.get(call.number)
    if (early !== undefined) {
      this.#abortedEarly.delete(call.number)
      call.abort(early)
    }
    this.#running.set(call.number, call)
    const before = this.#policy === 'after-leftovers' ? activeResources() : undefined
    let outcome: WireOutcome | undefined
    try {
      outcome = await call.run()
    } finally {
      this.#running.delete(call.number)
      if (this.#policy === 'after-every-call') this.#retiring = true
      else if (before !== undefined && leftBehind(before, activeResources())) this.#retiring = true
    }
    if (!this.#retiring || this.#running.size > 0) return outcome
    // The pool terminates this worker when it hears it retire, and a task's result travels on another port than the
    // notice: the outcome goes up first, on the same lane, so it cannot be lost.
    if (outcome !== undefined) call.report({ t: 'outcome', outcome })
    this.#retireNow()
    return undefined
  }

  /** The context a call's method runs with, remembered so that errors from its leftovers find it. */
  own (context: CallContext, call: WorkerCall): CallContext {
    this.#owners.set(context, call)
    return context
  }

  #control (message: Control): void {
    const reason = RpcError.fromJSON(message.error)
    const call = this.#running.get(message.call)
    if (call !== undefined) {
      call.abort(reason)
      return
    }
    this.#abortedEarly.set(message.call, reason)
    if (this.#abortedEarly.size > EARLY_ABORTS_KEPT) this.#abortedEarly.delete(this.#abortedEarly.keys().next().value as number)
  }

  #uncaught (err: unknown): void {
    const context = activeCallContext()
    const owner = context === undefined ? undefined : this.#owners.get(context)
    if (owner !== undefined && this.#running.get(owner.number) === owner) {
      // The running call's own code failed where it could not catch it: its call fails, and the thread, whose state
      // that code left unknown, goes with it.
      owner.failUncaught(err)
      process.exit(1)
    }
    const error = toRpcError(err, { fromMethod: true, expose: true })
    notify({ t: 'fault', threadId, method: context?.method, error: error.toJSON() })
    this.#retiring = true
    if (this.#running.size === 0) this.#retireNow()
  }

  /**
   * Tells the pool this worker is leaving and idle: the pool terminates it at once (a worker does not exit by itself,
   * so that nothing it posted is cut off) and starts a fresh one. Calls handed to it meanwhile are refused and retried.
   */
  #retireNow (): void {
    if (this.#retireSent) return
    this.#retireSent = true
    notify({ t: 'retire', threadId })
  }
}

function notify (notice: PoolNotice): void {
  up.postMessage(notice)
}

/** Counts of this thread's live handles and requests by kind (timers, sockets, file handles…). */
function activeResources (): Map<string, number> {
  const counts = new Map<string, number>()
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  return counts
}

/** Whether some kind of resource is more numerous after a call than before it: work the call left running. */
function leftBehind (before: Map<string, number>, after: Map<string, number>): boolean {
  for (const [kind, count] of after) if (count > (before.get(kind) ?? 0)) return true
  return false
}

// No top-level await, here or in worker-boot.mjs: a worker terminated while a module with top-level await is still
// evaluating aborts the whole process inside V8 ("Check failed: (location_) != nullptr", nodejs/node#43182 and
// #53238), and the pool terminates workers that are still booting when another one fails to load the methods module,
// or when the server closes while a replacement boots. The default export is a promise of the task function instead,
// which piscina awaits. The module first: an error loading it must reach the pool as this worker's failure to start
// (with its message), not as a stray error.
let methods!: MethodsObject
let life!: WorkerLife
export default importModule(methodsModule).then((module) => {
  methods = methodsOf(module) as MethodsObject
  life = new WorkerLife(recycle, control)
  notify({ t: 'booted', threadId })
  return runTask
})

/**
 * Runs one call (or answers the pool's questions about the methods: their listing, their description); the piscina
 * task settles when the worker is free again (after any download is sent), with the call's outcome when nothing else
 * about the call went up the worker's lane.
 */
async function runTask (task: CallTask | ListTask | DescribeTask): Promise<MethodListing | MethodsDescription | WireOutcome | undefined> {
  if ('list' in task) return listMethods(methods).map((name) => [name, shapeOf(resolveMethod(methods, name))])
  // The schemas exist only here: their JSON Schemas are made here, and only plain data goes up. Loaded on the first
  // ask: most servers are never asked, and each of their workers would hold the module for nothing.
  if ('describe' in task) return (await import('../../describe/openrpc.js')).describeMethods(methods)
  return await life.run(new WorkerCall(task))
}

/** One call on this worker: binds its params, runs its method, reports its outcome. */
class WorkerCall {
  readonly number: number
  readonly #task: CallTask
  readonly #abort = new CallAbort()
  readonly #files: PortFiles | undefined
  /** Something about this call went up the worker's lane: its outcome must follow it there, in order. */
  #spoke = false

  constructor (task: CallTask) {
    this.number = task.call
    this.#task = task
    this.#files = task.files === undefined ? undefined : new PortFiles(task.files, (report) => this.report(report), (reason) => this.abort(reason))
  }

  /** Tells the main thread something about this call. */
  report (report: CallReport, transfer?: MessagePort[]): void {
    this.#spoke = true
    up.postMessage({ call: this.number, ...report } satisfies WorkerToMain, transfer)
  }

  /** The call was aborted: the method's signal fires, its unread files fail. */
  abort (reason: RpcError): void {
    this.#abort.abort(reason)
    this.#files?.fail(reason)
  }

  /** Fails the call with an exception its own code raised where nothing could catch it. */
  failUncaught (err: unknown): void {
    const message = err instanceof Error ? err.message : String(err)
    this.report({
      t: 'outcome',
      outcome: {
        kind: 'error',
        error: new RpcError(ErrorCode.WORKER_CRASHED,
          `the method's worker crashed with an uncaught exception (${message}); it was replaced`).toJSON()
      }
    })
  }

  /**
   * Runs the call. Its outcome is reported up the worker's lane when anything else about the call went there (a log
   * line, a file request: the outcome must come after them) and for a download (its port travels with it); else it
   * is returned, to travel back as the task's result, which saves a message and a wake-up of the main thread.
   */
  async run (): Promise<WireOutcome | undefined> {
    // The call timeout counts from here (or from the upload's end, if later), not from when the call was queued.
    board.markStarted(this.#task.slot, threadId)
    // A call with files holds its upload until it runs: the main thread resumes reading it when told.
    if (this.#files !== undefined) this.report({ t: 'start', threadId })
    const { method, context, exposeErrors } = this.#task
    let inMethod = false
    let outcome: WireOutcome
    try {
      const fn = resolveMethod(methods, method)
      if (this.#task.shared) await new Promise((resolve) => setImmediate(resolve))
      if (this.#abort.aborted) throw this.#abort.reason
      const { args } = bindPlaceholders(this.#task.params, this.#files)
      const callContext = life.own(new WorkerCallContext(context, this.#abort,
        new PortLogger((report) => this.report(report), context.logLevel)), this)
      inMethod = true
      const value = await runInCallContext(callContext, () => fn(...args))
      inMethod = false
      const result = outcomeOfResult(value)
      if (result.kind === 'download') {
        await this.#sendDownload(result.download)
        return undefined
      }
      outcome = result.kind === 'json' ? result : { kind: 'error', error: result.error.toJSON() }
    } catch (err) {
      outcome = { kind: 'error', error: toRpcError(err, { fromMethod: inMethod, expose: exposeErrors }).toJSON() }
    } finally {
      this.#files?.close()
    }
    if (!this.#spoke) return outcome
    this.#outcome(outcome)
    return undefined
  }

  #outcome (outcome: WireOutcome, transfer?: MessagePort[]): void {
    this.report({ t: 'outcome', outcome }, transfer)
  }

  /** Sends a download's bytes up a channel of its own, paced by the main thread's acks; resolves once it is over. */
  async #sendDownload (download: Download): Promise<void> {
    const body: Readable = await download.open()
    const { port1, port2 } = new MessageChannel()
    this.#outcome({ kind: 'download', filename: download.filename, type: download.type, size: download.size, port: port2 }, [port2])
    const post = (message: DownloadToMain, transfer?: ArrayBuffer[]): void => port1.postMessage(message, transfer)
    const exposeErrors = this.#task.exposeErrors
    await new Promise<void>((resolve) => {
      const sender = new CreditSender(body, {
        data: (chunks, transfer) => post({ t: 'data', chunks }, transfer),
        end: () => { post({ t: 'end' }); resolve() },
        error: (err) => {
          post({ t: 'error', error: toRpcError(err, { fromMethod: true, expose: exposeErrors }).toJSON() })
          resolve()
        }
      })
      port1.on('message', (message: DownloadToWorker) => {
        if (message.t === 'ack') {
          sender.ack(message.n)
          return
        }
        sender.cancel()
        resolve()
      })
      // The main thread let go of the download (its port closed): nobody reads the rest.
      port1.once('close', () => {
        sender.cancel()
        resolve()
      })
    })
    port1.close()
  }
}

/**
 * The context a method sees in a worker: the request's, as the main thread sent it, with this thread's abort and
 * logger. A class, not an object literal with a `signal` getter: V8 gives every such literal a hidden class of its
 * own, which keeps the call's objects alive past young-generation collections.
 */
class WorkerCallContext implements CallContext {
  readonly method: string
  readonly id: CallTask['context']['id']
  readonly headers: CallTask['context']['headers']
  readonly remoteAddress: string
  readonly log: CallContext['log']
  readonly #abort: CallAbort

  constructor (context: CallTask['context'], abort: CallAbort, log: CallContext['log']) {
    this.method = context.method
    this.id = context.id
    this.headers = context.headers
    this.remoteAddress = context.remoteAddress
    this.log = log
    this.#abort = abort
  }

  get signal (): AbortSignal { return this.#abort.signal }
}
