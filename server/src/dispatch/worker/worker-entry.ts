/**
 * The code each pool worker runs: imports the methods module once, then runs one call per task, with file arguments
 * and downloads bridged over the task's MessagePort (see messages.ts).
 *
 * An exception thrown where no call can catch it (a timer callback, an unawaited promise) is charged to the call
 * whose code scheduled it, found through the call context that async work carries: if that call is still running it
 * fails with WORKER_CRASHED and the worker exits at once. If that call already finished, or no call scheduled it, no
 * running call is to blame: the error is reported to the pool (and logged there), running calls finish, and the
 * worker retires once it is idle (see {@link WorkerLife}).
 */
import { Readable } from 'node:stream'
import { BroadcastChannel, threadId, workerData, type MessagePort } from 'node:worker_threads'
import type { FastifyBaseLogger } from 'fastify'
import { ErrorCode, RpcError } from '@formcall/spec'
import { UploadedFile, UploadedFiles, type FileInfo, type FileSource } from '../../bind/uploaded-file.js'
import { asDownload } from '../../respond/download.js'
import { serializeResult, toRpcError } from '../../respond/envelope.js'
import { listMethods, resolveMethod, type MethodsObject } from '../resolve-method.js'
import { activeCallContext, runInCallContext, type CallContext } from '../call-context.js'
import { methodsOf } from '../../load-methods.js'
import { importModule } from '../../import-module.js'
import { CreditReceiver, CreditSender } from './credit-flow.js'
import { RETIRING, type CallTask, type LogLevel, type MainToWorker, type PoolNotice, type RecyclePolicy, type StartupData, type WorkerToMain } from './messages.js'

const { methodsModule, recycle, faults } = workerData as StartupData

/**
 * The calls this worker runs and whether it should leave the pool. Errors nothing catches are attributed here; a
 * worker retires (exits when idle, and the pool starts a fresh one) after an error no running call owns and, as
 * {@link RecyclePolicy} says, after calls that left work behind.
 */
class WorkerLife {
  readonly #running = new Set<WorkerCall>()
  readonly #owners = new WeakMap<CallContext, WorkerCall>()
  readonly #policy: RecyclePolicy
  readonly #faults: BroadcastChannel
  #retiring = false

  constructor (policy: RecyclePolicy, faultsChannel: string) {
    this.#policy = policy
    this.#faults = new BroadcastChannel(faultsChannel)
    this.#faults.unref()
    process.on('uncaughtException', (err) => this.#uncaught(err))
    process.on('unhandledRejection', (err) => this.#uncaught(err))
  }

  /** Runs `call` and decides, once it ended, whether this worker may take another. */
  async run (call: WorkerCall): Promise<void> {
    // Once retiring, no new call starts here, so none sees what made this worker retire; the pool retries it.
    if (this.#retiring) throw new Error(`${RETIRING}${threadId}`)
    this.#running.add(call)
    const before = this.#policy === 'after-leftovers' ? activeResources() : undefined
    try {
      await call.run()
    } finally {
      this.#running.delete(call)
      if (this.#policy === 'after-every-call') this.#retire()
      else if (before !== undefined && leftBehind(before, activeResources())) this.#retire()
    }
  }

  /** The context a call's method runs with, remembered so that errors from its leftovers find it. */
  own (context: CallContext, call: WorkerCall): CallContext {
    this.#owners.set(context, call)
    return context
  }

  #uncaught (err: unknown): void {
    const context = activeCallContext()
    const owner = context === undefined ? undefined : this.#owners.get(context)
    if (owner !== undefined && this.#running.has(owner)) {
      // The running call's own code failed where it could not catch it: its call fails, and the thread, whose state
      // that code left unknown, goes with it.
      owner.failUncaught(err)
      process.exit(1)
    }
    const error = toRpcError(err, { fromMethod: true, expose: true })
    this.#faults.postMessage({ t: 'fault', threadId, method: context?.method, error: error.toJSON() } satisfies PoolNotice)
    this.#retire()
  }

  /** Asks the pool to end this worker once no call runs on it; a call handed over meanwhile finishes first. */
  #retire (): void {
    if (this.#retiring) return
    this.#retiring = true
    this.#faults.postMessage({ t: 'retire', threadId } satisfies PoolNotice)
  }
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

// The module first: an error loading it must reach the pool as this worker's failure to start (with its message),
// not as a stray error.
const methods = methodsOf(await importModule(methodsModule)) as MethodsObject
const life = new WorkerLife(recycle, faults)

/** Runs one call; the piscina task settles when the worker is free again (after any download is sent). */
export default async function runTask (task: CallTask | { list: true }): Promise<string[] | undefined> {
  if ('list' in task) return listMethods(methods)
  await life.run(new WorkerCall(task))
  return undefined
}

class WorkerCall {
  readonly #task: CallTask
  readonly #port: MessagePort
  readonly #controller = new AbortController()
  readonly #files = new Map<number, PortFileSource>()
  readonly #groups = new Map<number, PortFileGroup>()
  #download: CreditSender | undefined
  #downloadDone: (() => void) | undefined

  constructor (task: CallTask) {
    this.#task = task
    this.#port = task.port
    this.#port.on('message', (message: MainToWorker) => this.#onMessage(message))
  }

  post (message: WorkerToMain, transfer?: ArrayBuffer[]): void {
    this.#port.postMessage(message, transfer)
  }

  /** Fails the call with an exception its own code raised where nothing could catch it. */
  failUncaught (err: unknown): void {
    const message = err instanceof Error ? err.message : String(err)
    this.post({
      t: 'error',
      error: new RpcError(ErrorCode.WORKER_CRASHED,
        `the method's worker crashed with an uncaught exception (${message}); it was replaced`).toJSON(),
      fromMethod: true
    })
  }

  async run (): Promise<void> {
    // The call timeout counts from here (or from the upload's end, if later), not from when the call was queued.
    this.post({ t: 'start', threadId })
    const { method, context } = this.#task
    const args = this.#placeFiles(this.#task.args)
    const log = new PortLogger(this, context.logLevel)
    let inMethod = false
    try {
      const fn = resolveMethod(methods, method)
      if (this.#task.shared) {
        await new Promise((resolve) => setImmediate(resolve))
        this.#controller.signal.throwIfAborted()
      }
      inMethod = true
      const callContext = life.own({ ...context, signal: this.#controller.signal, log }, this)
      const value = await runInCallContext(callContext, () => fn(...args))
      inMethod = false
      const download = asDownload(value)
      if (download === undefined) {
        this.post({ t: 'result', json: serializeResult(value) })
      } else {
        const body = await download.open()
        this.post({ t: 'download', filename: download.filename, type: download.type, size: download.size })
        await this.#sendDownload(body)
      }
    } catch (err) {
      this.post({ t: 'error', error: toRpcError(err, { fromMethod: inMethod, expose: this.#task.exposeErrors }).toJSON(), fromMethod: inMethod })
    } finally {
      this.#port.close()
    }
  }

  async #sendDownload (body: Readable): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#downloadDone = resolve
      this.#download = new CreditSender(body, {
        data: (chunk) => this.post({ t: 'dl-data', chunk }, [chunk.buffer as ArrayBuffer]),
        end: () => { this.post({ t: 'dl-end' }); resolve() },
        error: (err) => {
          this.post({ t: 'dl-error', error: toRpcError(err, { fromMethod: true, expose: this.#task.exposeErrors }).toJSON() })
          resolve()
        }
      })
    })
  }

  /** Puts a file object at each place the main thread took one out (see FilePlace). */
  #placeFiles (args: unknown[]): unknown[] {
    for (const place of this.#task.filePlaces) {
      let file: UploadedFile | UploadedFiles
      if (place.kind === 'file') {
        file = new UploadedFile(this.#task.fileFields[place.index] as string,
          this.#fileSource(place.index, this.#task.fileInfos[place.index] ?? undefined))
      } else {
        const group = new PortFileGroup(place.index, this)
        this.#groups.set(place.index, group)
        file = new UploadedFiles(place.field, group)
      }
      let parent = args as unknown as Record<string | number, unknown>
      for (const key of place.path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>
      // defineProperty, not assignment: a key named "__proto__" must stay a plain own property.
      Object.defineProperty(parent, place.path.at(-1) as string | number, { value: file, writable: true, enumerable: true, configurable: true })
    }
    return args
  }

  /** @internal */
  fileSource (index: number, info?: FileInfo): PortFileSource {
    return this.#fileSource(index, info)
  }

  #fileSource (index: number, info?: FileInfo): PortFileSource {
    let source = this.#files.get(index)
    if (source === undefined) {
      source = new PortFileSource(index, this, info)
      this.#files.set(index, source)
    }
    return source
  }

  #onMessage (message: MainToWorker): void {
    switch (message.t) {
      case 'info': this.#files.get(message.file)?.setInfo(message.info); break
      case 'data': this.#files.get(message.file)?.data(message.chunk); break
      case 'end': this.#files.get(message.file)?.end(); break
      case 'fail': this.#files.get(message.file)?.fail(RpcError.fromJSON(message.error)); break
      case 'item': this.#groups.get(message.group)?.item(message.file, message.info); break
      case 'items-end': this.#groups.get(message.group)?.end(); break
      case 'items-fail': this.#groups.get(message.group)?.fail(RpcError.fromJSON(message.error)); break
      case 'dl-ack': this.#download?.ack(message.n); break
      case 'dl-cancel':
        this.#download?.cancel()
        this.#downloadDone?.()
        break
      case 'abort': {
        const reason = RpcError.fromJSON(message.error)
        this.#controller.abort(reason)
        for (const source of this.#files.values()) source.fail(reason)
        break
      }
    }
  }
}

/**
 * The logger of a method in a worker (`callContext().log`): forwards each line to the request's logger in the main
 * thread, with the bindings of any `child()` merged in. It has the shape of Fastify's logger, so code written for
 * one runs with the other.
 */
class PortLogger implements FastifyBaseLogger {
  readonly #call: WorkerCall
  readonly #bindings: Record<string, unknown> | undefined
  level: string
  constructor (call: WorkerCall, level: string, bindings?: Record<string, unknown>) {
    this.#call = call
    this.level = level
    this.#bindings = bindings
  }

  trace (objOrMsg: unknown, msg?: string): void { this.#log('trace', objOrMsg, msg) }
  debug (objOrMsg: unknown, msg?: string): void { this.#log('debug', objOrMsg, msg) }
  info (objOrMsg: unknown, msg?: string): void { this.#log('info', objOrMsg, msg) }
  warn (objOrMsg: unknown, msg?: string): void { this.#log('warn', objOrMsg, msg) }
  error (objOrMsg: unknown, msg?: string): void { this.#log('error', objOrMsg, msg) }
  fatal (objOrMsg: unknown, msg?: string): void { this.#log('fatal', objOrMsg, msg) }
  silent (): void {}
  child (bindings: Record<string, unknown>): PortLogger {
    return new PortLogger(this.#call, this.level, { ...this.#bindings, ...bindings })
  }

  #log (level: LogLevel, objOrMsg: unknown, msg?: string): void {
    const text = typeof objOrMsg === 'string' ? objOrMsg : msg ?? ''
    const obj = typeof objOrMsg === 'string' ? undefined : objOrMsg
    const merged = this.#bindings === undefined ? obj : { ...this.#bindings, ...(typeof obj === 'object' && obj !== null ? obj : { value: obj }) }
    this.#call.post(merged === undefined ? { t: 'log', level, msg: text } : { t: 'log', level, msg: text, obj: safeClone(merged) })
  }
}

/** A file whose part lives in the main thread: bytes arrive as port messages, paced by acks. */
class PortFileSource implements FileSource {
  info: FileInfo | undefined
  readonly #index: number
  readonly #call: WorkerCall
  #stream: CreditReceiver | undefined
  #error: Error | undefined
  #readyWaiters: Array<{ resolve: (info: FileInfo) => void, reject: (err: Error) => void }> = []

  constructor (index: number, call: WorkerCall, info?: FileInfo) {
    this.#index = index
    this.#call = call
    this.info = info
  }

  async ready (): Promise<FileInfo> {
    if (this.info !== undefined) return this.info
    if (this.#error !== undefined) throw this.#error
    return await new Promise((resolve, reject) => {
      this.#readyWaiters.push({ resolve, reject })
      this.#call.post({ t: 'ready', file: this.#index })
    })
  }

  open (): Readable {
    const stream = new CreditReceiver((n) => this.#call.post({ t: 'ack', file: this.#index, n }))
    this.#stream = stream
    if (this.#error !== undefined) {
      const err = this.#error
      process.nextTick(() => stream.destroy(err))
    } else {
      this.#call.post({ t: 'open', file: this.#index })
    }
    return stream
  }

  setInfo (info: FileInfo): void {
    this.info = info
    for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve(info)
  }

  data (chunk: Uint8Array): void { this.#stream?.receive(chunk) }
  end (): void { this.#stream?.finish() }

  fail (err: Error): void {
    if (this.#error !== undefined) return
    this.#error = err
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(err)
    this.#stream?.destroy(err)
  }
}

/** The parts of one `$files` list, pulled from the main thread one at a time. */
class PortFileGroup implements AsyncIterable<UploadedFile> {
  readonly #index: number
  readonly #call: WorkerCall
  #next: { resolve: (r: IteratorResult<UploadedFile>) => void, reject: (err: Error) => void } | undefined

  constructor (index: number, call: WorkerCall) {
    this.#index = index
    this.#call = call
  }

  [Symbol.asyncIterator] (): AsyncIterator<UploadedFile> {
    return {
      next: async () => await new Promise((resolve, reject) => {
        this.#next = { resolve, reject }
        this.#call.post({ t: 'next', group: this.#index })
      })
    }
  }

  item (file: number, info: FileInfo): void {
    this.#take()?.resolve({ value: new UploadedFile(info.field, this.#call.fileSource(file, info)), done: false })
  }

  end (): void { this.#take()?.resolve({ value: undefined, done: true }) }
  fail (err: Error): void { this.#take()?.reject(err) }

  #take (): { resolve: (r: IteratorResult<UploadedFile>) => void, reject: (err: Error) => void } | undefined {
    const next = this.#next
    this.#next = undefined
    return next
  }
}

function safeClone (value: unknown): unknown {
  try {
    return structuredClone(value)
  } catch {
    return String(value)
  }
}
