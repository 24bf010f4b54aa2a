import type { MessagePort } from 'node:worker_threads'
import { ErrorCode, RpcError } from '@formcall/spec'
import { UploadedFile, UploadedFiles, WHEN_ARRIVED, type FileInfo } from '../../bind/uploaded-file.js'
import { Download } from '../../respond/download.js'
import { SerializedResult } from '../../respond/envelope.js'
import type { CallContext } from '../call-context.js'
import { CreditReceiver, CreditSender } from './credit-flow.js'
import type { FilePlace, MainToWorker, WorkerToMain } from './messages.js'

/**
 * The main-thread end of one call's MessagePort: serves the worker's file requests from the request's file objects,
 * relays the abort signal, and turns the worker's outcome (a result, an error, a download stream) into what the
 * dispatch seam returns.
 */
export class CallBridge {
  /** Settles with the method's outcome: JSON text, a Download, or the method's error. */
  readonly outcome: Promise<unknown>
  /** Resolves when a worker picked up the call (it may have waited in the pool's queue until then). */
  readonly started: Promise<void>
  /** The worker thread running the call, once it started. */
  threadId: number | undefined
  #markStarted!: () => void
  readonly #port: MessagePort
  readonly #context: CallContext
  readonly #files: UploadedFile[] = []
  readonly #fileIndex = new Map<UploadedFile, number>()
  /** The headers of each file argument, as far as they had arrived when the args were encoded. */
  readonly #infos: Array<FileInfo | null> = []
  readonly #groups: Array<AsyncIterator<UploadedFile>> = []
  readonly #places: FilePlace[] = []
  readonly #senders = new Map<number, CreditSender>()
  #download: CreditReceiver | undefined
  #settle!: { resolve: (value: unknown) => void, reject: (err: unknown) => void }
  #settled = false
  #portClosed = false
  #taskEnded = false

  constructor (port: MessagePort, context: CallContext) {
    this.#port = port
    this.#context = context
    this.outcome = new Promise((resolve, reject) => { this.#settle = { resolve, reject } })
    this.outcome.catch(() => {})
    this.started = new Promise((resolve) => { this.#markStarted = resolve })
    port.on('message', (message: WorkerToMain) => this.#onMessage(message))
    // A port also closes when its worker dies. The pool's own report of why (out of memory, exit code, uncaught
    // exception) is more useful; it comes with the end of the task, which can be well after the port closed (a dying
    // worker tears its heap down first), so the generic failure waits for both.
    port.on('close', () => {
      this.#portClosed = true
      this.#failIfAbandoned()
    })
  }

  /** The pool's task for this call ended; a failure the pool reported has been passed to {@link fail} already. */
  taskEnded (): void {
    this.#taskEnded = true
    this.#failIfAbandoned()
  }

  /** The worker is done with the port and the task ended: a call still without an outcome fails rather than hang. */
  #failIfAbandoned (): void {
    if (!this.#portClosed || !this.#taskEnded) return
    if (this.#settled && (this.#download === undefined || this.#download.complete)) return
    this.fail(new RpcError(ErrorCode.WORKER_CRASHED, 'the worker running the method stopped'))
  }

  /**
   * Args for the task: each file object replaced by `null`, its place recorded in {@link filePlaces} for the worker
   * to put a file object back.
   */
  encodeArgs (args: readonly unknown[]): unknown[] {
    const encode = (value: unknown, path: Array<string | number>): unknown => {
      if (value instanceof UploadedFile) {
        const index = this.#register(value)
        this.#places.push({ path, kind: 'file', index })
        // The method in the worker knows a part's headers when an inline method would: those that arrived already
        // travel with the task, later ones as soon as they arrive (an inline method sees them appear at once).
        this.#infos[index] ??= null
        value[WHEN_ARRIVED]((info) => {
          this.#infos[index] = info
          this.#post({ t: 'info', file: index, info })
        })
        return null
      }
      if (value instanceof UploadedFiles) {
        this.#groups.push(value[Symbol.asyncIterator]())
        this.#places.push({ path, kind: 'files', index: this.#groups.length - 1, field: value.field })
        return null
      }
      if (typeof value !== 'object' || value === null) return value
      if (Array.isArray(value)) return value.map((item, index) => encode(item, [...path, index]))
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encode(item, [...path, key])]))
    }
    return args.map((arg, index) => encode(arg, [index]))
  }

  /** Where {@link encodeArgs} took file objects out. */
  get filePlaces (): FilePlace[] { return this.#places }

  /** Field names by file index, for the task. */
  get fileFields (): string[] { return this.#files.map((file) => file.field) }
  /** The headers of the file arguments whose parts had arrived by the time the args were encoded, by file index. */
  get fileInfos (): Array<FileInfo | null> { return [...this.#infos] }
  /** Whether the call has any file argument. */
  get hasFiles (): boolean { return this.#files.length > 0 || this.#groups.length > 0 }

  /** Tells the worker's method its call was aborted (its signal fires, its file streams fail). */
  abort (reason: RpcError): void {
    this.#post({ t: 'abort', error: reason.toJSON() })
  }

  /** The worker failed (crash, timeout, termination): the outcome rejects, a running download errors. */
  fail (err: RpcError): void {
    for (const sender of this.#senders.values()) sender.cancel()
    if (this.#download !== undefined && !this.#download.complete) this.#download.destroy(err)
    this.#finish(err, false)
  }

  #register (file: UploadedFile): number {
    let index = this.#fileIndex.get(file)
    if (index === undefined) {
      index = this.#files.push(file) - 1
      this.#fileIndex.set(file, index)
    }
    return index
  }

  #post (message: MainToWorker, transfer?: ArrayBuffer[]): void {
    try {
      this.#port.postMessage(message, transfer)
    } catch {
      // The port closed: the worker is gone and `fail` reports it.
    }
  }

  #finish (value: unknown, ok: boolean): void {
    if (this.#settled) return
    this.#settled = true
    if (ok) this.#settle.resolve(value)
    else this.#settle.reject(value)
  }

  #onMessage (message: WorkerToMain): void {
    switch (message.t) {
      case 'start':
        this.threadId = message.threadId
        this.#markStarted()
        break
      // These run in the main thread on the worker's behalf: whatever they throw fails that file, never the process.
      case 'ready': this.#sendInfo(message.file).catch((err: unknown) => this.#failFile(message.file, err)); break
      case 'open': this.#open(message.file).catch((err: unknown) => this.#failFile(message.file, err)); break
      case 'ack': this.#senders.get(message.file)?.ack(message.n); break
      case 'next': this.#next(message.group).catch((err: unknown) => this.#post({ t: 'items-fail', group: message.group, error: asRpcError(err).toJSON() })); break
      case 'result': this.#finish(new SerializedResult(message.json), true); break
      case 'error': this.#finish(RpcError.fromJSON(message.error), false); break
      case 'download': {
        const stream = new CreditReceiver(
          (n) => this.#post({ t: 'dl-ack', n }),
          () => this.#post({ t: 'dl-cancel' }))
        this.#download = stream
        this.#finish(new Download(() => stream, {
          ...(message.filename === undefined ? {} : { filename: message.filename }),
          type: message.type,
          ...(message.size === undefined ? {} : { size: message.size })
        }), true)
        break
      }
      case 'dl-data': this.#download?.receive(message.chunk); break
      case 'dl-end': this.#download?.finish(); break
      case 'dl-error': this.#download?.destroy(RpcError.fromJSON(message.error)); break
      case 'log': {
        const log = this.#context.log[message.level].bind(this.#context.log)
        if (message.obj === undefined) log(message.msg)
        else log(message.obj, message.msg)
        break
      }
    }
  }

  async #sendInfo (index: number): Promise<void> {
    const file = this.#files[index] as UploadedFile
    try {
      this.#post({ t: 'info', file: index, info: await file.ready() })
    } catch (err) {
      this.#post({ t: 'fail', file: index, error: asRpcError(err).toJSON() })
    }
  }

  #failFile (index: number, err: unknown): void {
    this.#post({ t: 'fail', file: index, error: asRpcError(err).toJSON() })
  }

  async #open (index: number): Promise<void> {
    const file = this.#files[index] as UploadedFile
    // Headers first: the stream is opened only for a part that arrived, so a failed one leaves no stream behind.
    try {
      this.#post({ t: 'info', file: index, info: await file.ready() })
    } catch (err) {
      this.#post({ t: 'fail', file: index, error: asRpcError(err).toJSON() })
      return
    }
    const stream = file.stream
    this.#senders.set(index, new CreditSender(stream, {
      data: (chunk) => this.#post({ t: 'data', file: index, chunk }, [chunk.buffer as ArrayBuffer]),
      end: () => this.#post({ t: 'end', file: index }),
      error: (err) => this.#post({ t: 'fail', file: index, error: asRpcError(err).toJSON() })
    }))
  }

  async #next (group: number): Promise<void> {
    const iterator = this.#groups[group] as AsyncIterator<UploadedFile>
    try {
      const item = await iterator.next()
      if (item.done === true) {
        this.#post({ t: 'items-end', group })
        return
      }
      const file = item.value
      this.#post({ t: 'item', group, file: this.#register(file), info: await file.ready() })
    } catch (err) {
      this.#post({ t: 'items-fail', group, error: asRpcError(err).toJSON() })
    }
  }
}

function asRpcError (err: unknown): RpcError {
  return err instanceof RpcError
    ? err
    : new RpcError(ErrorCode.INVALID_REQUEST, `the upload failed: ${(err as Error).message ?? String(err)}`)
}
