import { availableParallelism } from 'node:os'
import { randomUUID } from 'node:crypto'
import { BroadcastChannel, type Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import { ErrorCode, RpcError } from '@formcall/spec'
import type { Execution, Executor } from '../executor.js'
import type { Outcome } from '../outcome.js'
import type { MethodShape } from '../../shape/method-shape.js'
import { CallBridge } from './call-bridge.js'
import { CallWatch, type CallLimits } from './call-watch.js'
import { StartBoard } from './start-board.js'
import {
  RETIRING, isPoolNotice, type CallTask, type Control, type DescribeTask, type ListTask, type MethodListing, type PoolNotice, type RecyclePolicy, type StartupData, type WireOutcome, type WorkerToMain
} from './messages.js'
import { UploadLanes } from './upload-lanes.js'
import { keepWorkerViews } from './worker-views.js'
import { toFileUrl } from '../../import-module.js'
import { assertExportsMethods } from '../../load-methods.js'
import { describeLoadFailure } from '../../describe-load-failure.js'
import type { MethodsDescription } from '../../describe/openrpc.js'

/** Options of the worker pool. */
export interface WorkerPoolOptions {
  /** Path or URL of the methods module each worker imports (its default export, or its named exports). */
  methodsModule: string | URL
  /** Worker threads, all started up front. Default: max(8, 4 × cores) — see the README's design notes. */
  workers?: number
  /** Calls waiting for a worker before new ones get OVERLOADED (503, with Retry-After). Default: max(1024, 64 × workers): a queued call costs a few hundred bytes, and a full default batch (100 calls) or a few hundred concurrent clients must not be refused. */
  maxQueue?: number
  /** Milliseconds a method may run after its upload is complete; then its worker is terminated. Default 60 000. */
  callTimeout?: number
  /** Heap limit of each worker in MiB; a method that exceeds it fails with WORKER_CRASHED. Default 512. */
  maxHeapMb?: number
  /** Calls one worker runs at once. Above 1 trades isolation for density: for trusted, I/O-bound code. Default 1. */
  callsPerWorker?: number
  /** Worker slots kept free of uploads, so slow uploads cannot starve calls without files. Default: a quarter. */
  reservedForCalls?: number
  /** Milliseconds an aborted method gets to return before its worker is terminated. Default 2000. */
  abortGrace?: number
  /**
   * Node options for the workers (`process.execArgv` inside them). Default: none. The parent's own `execArgv` is not
   * passed on: it can hold options a worker refuses (a test runner's `--stack-trace-limit`, `--node-snapshot`…) and
   * loaders that do not work in worker threads.
   */
  execArgv?: string[]
  /** Add stack traces to method errors (the server's `exposeErrors`). */
  exposeErrors?: boolean
  /**
   * When a worker leaves the pool between calls. `after-errors` (default): after an exception no running call owns
   * (a timer a finished method left behind). `after-leftovers`: also after a call that left timers, sockets or other
   * handles running (costs a fresh worker per such call: ~36 ms of wall time and ~64 ms of CPU measured on 2 cores). `after-every-call`: no call ever shares a
   * thread with what an earlier call left.
   */
  recycle?: RecyclePolicy
  /** Where workers' errors that no call owns are logged. Default: nowhere (the plugin passes Fastify's logger). */
  log?: { warn (obj: object, msg: string): void }
}

/**
 * Tries a call gets on further workers when the one it was handed to left before running it. Such a try costs
 * nothing of the call's upload; the bound only stops a pool whose workers keep dying at boot from looping forever.
 */
const MAX_RETRIES = 64
/** How long start() waits for the whole pool to boot before it lets the server listen anyway. */
const BOOT_WAIT_MS = 30_000
const WORKER_BOOT = new URL('./worker-boot.mjs', import.meta.url)
// The compiled worker-entry.js beside this file in a package; its TypeScript source inside formcall's repository.
const WORKER_ENTRY = new URL(`./worker-entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url)

/**
 * Runs every call in a pooled worker thread (piscina), so a method that throws, hangs, leaks memory or exits fails
 * its own call only: the worker is replaced and calls on other workers carry on.
 *
 * @example
 * ```ts
 * const executor = new WorkerExecutor({ methodsModule: new URL('./methods.ts', import.meta.url), workers: 8 })
 * createServer({ executor })
 * ```
 */
export class WorkerExecutor implements Executor {
  readonly #pool: Piscina
  readonly #lanes: UploadLanes
  readonly #limits: CallLimits
  readonly #methodsModule: string
  /** Each running call's cancel function, with the promise that settles when its task is over. */
  readonly #running = new Map<() => void, Promise<void>>()
  /** The callable methods' names and shapes, as the workers found them, once started. */
  #methods: ReadonlyMap<string, MethodShape> | undefined
  #closing = false
  readonly #exposeErrors: boolean
  /** Several calls per worker (`callsPerWorker` > 1). */
  readonly #shared: boolean
  readonly #workers: number
  /** Carries aborts to the workers (messages.ts: Control). */
  readonly #control: BroadcastChannel
  /** The calls handed to the pool and not over, by number: where each worker report goes. */
  readonly #calls = new Map<number, CallBridge>()
  #nextCall = 1
  /** Threads the pool let go (stopped, retired) that have not exited yet: stuck in native code, or exiting. */
  readonly #lingering = new Set<Worker>()
  readonly #tracked = new WeakSet<Worker>()
  /** Where workers note which calls started, and on which thread. */
  readonly #board: StartBoard
  /** Workers that loaded the methods module, since the pool started (replacements included). */
  #booted = 0
  #onBoot: (() => void) | undefined
  /** The methods' description, asked of a worker once (kept unless it failed). */
  #description: Promise<MethodsDescription> | undefined

  constructor (options: WorkerPoolOptions) {
    const workers = options.workers ?? Math.max(8, 4 * availableParallelism())
    const controlChannel = `formcall-pool-control-${randomUUID()}`
    const callsPerWorker = options.callsPerWorker ?? 1
    this.#shared = callsPerWorker > 1
    const slots = workers * callsPerWorker
    const reserved = options.reservedForCalls ?? Math.max(1, Math.floor(slots / 4))
    const maxQueue = options.maxQueue ?? Math.max(1024, 64 * workers)
    this.#limits = { callTimeout: options.callTimeout ?? 60_000, abortGrace: options.abortGrace ?? 2_000 }
    this.#exposeErrors = options.exposeErrors ?? false
    this.#methodsModule = toFileUrl(options.methodsModule)
    this.#lanes = new UploadLanes(slots - reserved, maxQueue)
    // Every call in flight holds a slot: at most the running ones and the queued ones (piscina refuses past maxQueue).
    const boardSlots = slots + maxQueue + 1
    this.#board = new StartBoard(boardSlots)
    this.#pool = new Piscina({
      filename: WORKER_BOOT.href,
      minThreads: workers,
      maxThreads: workers,
      maxQueue,
      concurrentTasksPerWorker: callsPerWorker,
      // 'sync' parks idle workers in Atomics.wait, which freezes work a method left running without awaiting it.
      atomics: 'disabled',
      idleTimeout: Number.MAX_SAFE_INTEGER,
      // The pool's run- and wait-time histograms are read by nobody here: recording them is a cost on every call.
      recordTiming: false,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 512 },
      workerData: {
        methodsModule: this.#methodsModule,
        entry: WORKER_ENTRY.href,
        recycle: options.recycle ?? 'after-errors',
        control: controlChannel,
        board: this.#board.buffer,
        boardSlots
      } satisfies StartupData,
      execArgv: options.execArgv ?? []
    })
    keepWorkerViews(this.#pool)
    // Errors of a worker with no call running (a stray timer after its call finished) must not crash the server.
    this.#pool.on('error', () => {})
    this.#workers = workers
    this.#control = new BroadcastChannel(controlChannel)
    this.#control.unref()
    // Every worker's reports come up its parentPort, which piscina hands on as the pool's 'message' event.
    this.#pool.on('message', (message: WorkerToMain | PoolNotice) => {
      if (!isPoolNotice(message)) {
        this.#calls.get(message.call)?.receive(message)
        return
      }
      if (message.t === 'booted') {
        this.#booted++
        this.#onBoot?.()
        return
      }
      if (message.t === 'retire') {
        // The worker is idle and leaving (worker-entry: it says so once its last call ended).
        this.#terminateThread(message.threadId)
        return
      }
      options.log?.warn({ threadId: message.threadId, method: message.method, error: message.error },
        'a pool worker raised an error no running call owns (work a finished call left behind); the worker retires')
    })
    this.#pool.on('workerCreate', () => this.#trackThreads())
    this.#pool.on('workerDestroy', (worker: { id: number }) => this.#letGo(worker.id))
    // The first workers were created inside piscina's constructor, before the listener above.
    this.#trackThreads()
  }

  /** Watches every thread the pool has, so one it lets go is counted until it has really exited. */
  #trackThreads (): void {
    for (const thread of this.#pool.threads) {
      if (this.#tracked.has(thread)) continue
      this.#tracked.add(thread)
      thread.once('exit', () => this.#lingering.delete(thread))
    }
  }

  #letGo (threadId: number): void {
    for (const thread of this.#pool.threads) {
      // An untracked thread cannot be watched for its exit (it may have exited already): not counted.
      if (thread.threadId === threadId && this.#tracked.has(thread)) this.#lingering.add(thread)
    }
  }

  /**
   * Starts the workers and learns the method names, so unknown methods are refused without a worker.
   *
   * @throws Error when the workers cannot load the methods module (a syntax error names its file and line) or it
   * exports no function; the pool is stopped first.
   */
  async start (): Promise<void> {
    let listing: MethodListing
    try {
      listing = await this.#pool.run({ list: true } satisfies ListTask) as MethodListing
    } catch (err) {
      // The plugin adds its close hook only once start() succeeded: the pool is stopped here or by nobody.
      await this.#pool.destroy()
      throw new Error(await describeLoadFailure(err, this.#methodsModule), { cause: err })
    }
    if (listing.length === 0) await this.#pool.destroy()
    assertExportsMethods(listing.map(([name]) => name), this.#methodsModule)
    this.#methods = new Map(listing)
    await this.#allBooted()
  }

  /**
   * Resolves once every worker of the pool has loaded the methods module, so a server that listens has its whole pool
   * ready: the first calls do not wait for workers still booting, and the memory the pool takes is taken. Bounded:
   * a worker that cannot boot is the pool's to replace, not a reason to never listen.
   */
  async #allBooted (): Promise<void> {
    if (this.#booted >= this.#workers) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, BOOT_WAIT_MS)
      this.#onBoot = () => {
        if (this.#booted < this.#workers) return
        clearTimeout(timer)
        resolve()
      }
    })
    this.#onBoot = undefined
  }

  /** The callable method names, once started. */
  get methodNames (): string[] { return [...(this.#methods?.keys() ?? [])] }

  assertMethod (method: string): MethodShape {
    if (this.#closing) throw new RpcError(ErrorCode.SHUTTING_DOWN, 'the server is shutting down; retry on another instance')
    const shape = this.#methods?.get(method)
    if (shape === undefined) {
      throw new RpcError(ErrorCode.METHOD_NOT_FOUND, `method "${method.slice(0, 256)}" does not exist; check the name and its namespace`,
        { method: method.slice(0, 256) })
    }
    return shape
  }

  /**
   * The methods' description for OpenRPC discovery, made by a worker: the schemas live there. Asked once; a failure
   * (the worker died meanwhile) is not kept.
   *
   * @throws RpcError SHUTTING_DOWN once the pool is closing.
   */
  async describe (): Promise<MethodsDescription> {
    if (this.#closing) throw new RpcError(ErrorCode.SHUTTING_DOWN, 'the server is shutting down; retry on another instance')
    if (this.#description === undefined) {
      const asked = this.#pool.run({ describe: true } satisfies DescribeTask) as Promise<MethodsDescription>
      this.#description = asked
      asked.catch(() => {
        if (this.#description === asked) this.#description = undefined
      })
    }
    return await this.#description
  }

  async run (execution: Execution): Promise<Outcome> {
    // A thread the pool let go but that has not exited (a method stuck in native code ignores termination) still
    // holds memory and maybe a core, and the pool has started its replacement: past the pool's size in such threads,
    // new calls are refused rather than let threads grow without bound.
    if (this.#lingering.size >= this.#workers) {
      throw new RpcError(ErrorCode.OVERLOADED,
        `${this.#lingering.size} stopped worker threads have not exited yet (methods stuck in native code); retry later`)
    }
    // Each retry found a worker that was leaving (or was ended while the call was on its way to it); when workers
    // recycle after every call that happens often, and a call may meet several before a fresh one takes it.
    return await this.#attempt(execution, MAX_RETRIES)
  }

  /**
   * One try at running the call on a worker. A worker that exits before the call started on it (it was retiring when
   * the pool handed it the call) consumed nothing of the call, not even its upload: the call then gets `retries`
   * more tries on other workers.
   */
  async #attempt (execution: Execution, retries: number): Promise<Outcome> {
    const { method, params, files, context, uploadComplete, uploadHold } = execution
    const bridge = new CallBridge(this.#nextCall++, context, files)
    // Until the method runs on a worker nobody reads its files: waiting for a lane or in the pool's queue is the
    // server's doing, not the client stalling.
    const hold = bridge.hasFiles ? uploadHold : undefined
    hold?.pause()
    let release = (): void => {}
    if (bridge.hasFiles) {
      try {
        release = await this.#lanes.acquire(context.signal)
      } catch (err) {
        // Refused or aborted while waiting for a lane: the call never reached a worker.
        bridge.taskEnded(err instanceof RpcError ? err : new RpcError(ErrorCode.ABORTED, 'the call was aborted'))
        hold?.resume()
        throw err
      }
      void bridge.started.then(() => hold?.resume())
    }
    // Taken once the call goes to the pool: the board has a slot for every call running or in the pool's queue.
    const slot = this.#board.take()
    if (slot === undefined) {
      const overloaded = new RpcError(ErrorCode.OVERLOADED, `every worker is busy and ${this.#pool.options.maxQueue} calls are queued; retry later`)
      release()
      hold?.resume()
      // The call never reached a worker: its bridge lets go of its port, and is answered with the refusal.
      bridge.taskEnded(overloaded)
      throw overloaded
    }
    const startOf = (): { threadId: number, at: number } | undefined => this.#board.startOf(slot)
    this.#calls.set(bridge.number, bridge)
    let stopReason: RpcError | undefined
    const stop = (reason: RpcError): void => {
      stopReason ??= reason
      this.#broadcastAbort(bridge.number, reason)
      const thread = startOf()?.threadId
      // With one call per worker the call is answered at once and its thread terminated. A worker that runs other
      // calls too is terminated first and the call answered once the pool has seen the thread exit (the task then
      // fails with stopReason), so the next call cannot be handed to the dying worker. A call still on its way to a
      // worker is answered now; the worker it reaches drops it (it heard the abort).
      if (thread === undefined || !this.#shared) bridge.fail(reason)
      if (thread !== undefined) this.#terminateThread(thread, true)
    }
    const watch = new CallWatch(this.#limits, () => startOf()?.at, stop)
    void uploadComplete.then(() => watch.uploadComplete(), () => {})
    let aborted = false
    const onAbort = (reason: unknown): void => {
      aborted = true
      const error = reason instanceof RpcError ? reason : new RpcError(ErrorCode.ABORTED, 'the call was aborted')
      bridge.abort(error)
      this.#broadcastAbort(bridge.number, error)
      watch.aborted(error)
    }
    const stopListening = listenForAbort(execution, onAbort)
    // At shutdown the call only fails here, and close() then stops every worker with pool.destroy(): terminating its
    // thread instead would make piscina start a replacement worker when the stopped one's exit comes in, which can be
    // after destroy() returned, a thread that outlives the pool.
    const cancel = (): void => bridge.fail(new RpcError(ErrorCode.SHUTTING_DOWN, 'the server shut down before the call finished'))
    let taskSettled!: () => void
    this.#running.set(cancel, new Promise<void>((resolve) => { taskSettled = resolve }))

    const task: CallTask = {
      call: bridge.number,
      slot,
      method,
      params,
      ...(bridge.filesTask === undefined ? {} : { files: bridge.filesTask }),
      context: { method: context.method, id: context.id, headers: context.headers, remoteAddress: context.remoteAddress, logLevel: context.log.level },
      exposeErrors: this.#exposeErrors,
      shared: this.#shared
    }
    let retried: Promise<Outcome> | undefined
    const done = this.#pool.run(task, bridge.filesTask === undefined ? {} : { transferList: [bridge.filesTask.port] }) as Promise<WireOutcome | undefined>
    const ended = done.then((outcome) => {
      if (outcome !== undefined) bridge.receive({ t: 'outcome', outcome })
      bridge.taskEnded()
    }, (err: unknown) => {
      const started = startOf() !== undefined
      if (retries > 0 && !started && stopReason === undefined && !aborted && (isRetiring(err) || isWorkerExit(err))) {
        hold?.resume()
        // A moment for the pool to replace the worker that left, rather than hand the call to the next one leaving.
        retried = new Promise((resolve) => setTimeout(resolve, 2)).then(async () => await this.#attempt(execution, retries - 1))
        return
      }
      bridge.taskEnded(stopReason ?? poolErrorToRpc(err, this.#pool.options.maxQueue))
    }).finally(() => {
      watch.end()
      stopListening()
      this.#board.release(slot)
      // The outcome report may come after the task's end (they travel on different ports): the call stays reachable
      // until it has its outcome.
      void bridge.outcome.then(() => this.#calls.delete(bridge.number))
      this.#running.delete(cancel)
      taskSettled()
      release()
    })
    return await Promise.race([bridge.outcome, ended.then(async () => await (retried ?? bridge.outcome))])
  }

  /** Tells every worker that a call was aborted: the one running it aborts its method, the others drop it if it comes. */
  #broadcastAbort (call: number, reason: RpcError): void {
    try {
      this.#control.postMessage({ t: 'abort', call, error: reason.toJSON() } satisfies Control)
    } catch {
      // The pool is closed (its workers are gone or going): nobody is left to tell.
    }
  }

  /**
   * Terminates a thread; the pool replaces it once it has exited. A thread stopped in the middle of a call (`stuck`)
   * may not exit for a long time (a method stuck in native code ignores termination for as long as it is stuck): it
   * counts as lingering from now on, so that such threads cannot pile up.
   */
  #terminateThread (threadId: number, stuck = false): void {
    for (const worker of this.#pool.threads) {
      if (worker.threadId !== threadId) continue
      if (stuck && this.#tracked.has(worker)) this.#lingering.add(worker)
      void worker.terminate()
    }
  }

  /**
   * Refuses new calls, gives running ones `graceMs` to finish, then terminates the workers (their calls fail with
   * SHUTTING_DOWN).
   */
  async close (graceMs = 10_000): Promise<void> {
    this.#closing = true
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<'over'>((resolve) => { timer = setTimeout(resolve, graceMs, 'over') })
    // A call that retries on another worker is running again under a new entry, so wait until none is left.
    while (this.#running.size > 0) {
      if (await Promise.race([Promise.all(this.#running.values()), graceOver]) === 'over') break
    }
    clearTimeout(timer)
    for (const cancel of [...this.#running.keys()]) cancel()
    this.#control.close()
    await this.#pool.destroy()
  }
}

/** Calls `listener` with the reason once the call is aborted; returns the way to stop listening. */
function listenForAbort (execution: Execution, listener: (reason: unknown) => void): () => void {
  if (execution.onAbort !== undefined) return execution.onAbort(listener)
  const { signal } = execution.context
  const onAbort = (): void => listener(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  return () => signal.removeEventListener('abort', onAbort)
}

/** Whether `err` is a worker's refusal of a call because it is leaving the pool. */
function isRetiring (err: unknown): boolean {
  return err instanceof Error && err.message.startsWith(RETIRING)
}

function isWorkerExit (err: unknown): boolean {
  return err instanceof Error && /worker exited with code|terminat/i.test(err.message)
}

function poolErrorToRpc (err: unknown, maxQueue: number): RpcError {
  if (err instanceof RpcError) return err
  const error = err as Error & { code?: string, cause?: unknown }
  if (error.name === 'AbortError' && error.cause instanceof RpcError) return error.cause
  if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new RpcError(ErrorCode.WORKER_CRASHED, 'the method ran out of memory (maxHeapMb); its worker was replaced')
  }
  if (/task queue is at limit/i.test(error.message)) {
    return new RpcError(ErrorCode.OVERLOADED, `every worker is busy and ${maxQueue} calls are queued; retry later`)
  }
  if (/worker exited with code/i.test(error.message)) {
    return new RpcError(ErrorCode.WORKER_CRASHED, `the method's worker exited (${error.message}); it was replaced`)
  }
  return new RpcError(ErrorCode.WORKER_CRASHED,
    `the method's worker crashed with an uncaught exception (${error.message}); it was replaced`)
}
