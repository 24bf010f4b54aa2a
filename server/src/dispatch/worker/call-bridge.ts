import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { ErrorCode, RpcError } from '@formcall/spec'
import { UploadedFile, UploadedFiles, WHEN_ARRIVED } from '../../bind/uploaded-file.js'
import { hasExclusiveChunks } from '../../bind/exclusive-chunks.js'
import { Download } from '../download.js'
import type { Outcome } from '../outcome.js'
import type { CallContext } from '../call-context.js'
import { CreditReceiver, CreditSender } from './credit-flow.js'
import type { CallReport, DownloadToMain, DownloadToWorker, FilesTask, MainToWorker, WireOutcome } from './messages.js'

/**
 * How long a call whose task ended well may wait for its outcome report. The worker posts the report before its task
 * returns, so it is already queued when the task's end arrives; the bound only keeps a broken worker from hanging a
 * request.
 */
const OUTCOME_AFTER_TASK_MS = 1000

/**
 * The main-thread end of one worker call: serves the worker's file requests from the request's file objects (down
 * the call's port, when it has files), forwards its log lines, and turns its outcome report into the {@link Outcome}
 * the dispatch seam returns (a download's bytes arrive on a port of their own).
 */
export class CallBridge {
  /** The call's number in the pool. */
  readonly number: number
  /** Settles with the call's outcome; never rejects. */
  readonly outcome: Promise<Outcome>
  /** Resolves when a worker picked up the call (it may have waited in the pool's queue until then). */
  readonly started: Promise<void>
  /** The worker thread running the call, once it started. */
  threadId: number | undefined
  /** What the task carries of the call's files (its port included), or undefined for a call without files. */
  readonly filesTask: FilesTask | undefined
  #markStarted!: () => void
  #settle!: (outcome: Outcome) => void
  #settled = false
  readonly #context: CallContext
  readonly #port: MessagePort | undefined
  readonly #files: UploadedFile[] = []
  readonly #fileNumbers = new Map<UploadedFile, number>()
  readonly #lists: Array<AsyncIterator<UploadedFile>> = []
  readonly #senders = new Map<number, CreditSender>()
  #download: CreditReceiver | undefined

  constructor (number: number, context: CallContext, files: ReadonlyMap<string, UploadedFile | UploadedFiles>) {
    this.number = number
    this.#context = context
    this.outcome = new Promise((resolve) => { this.#settle = resolve })
    this.started = new Promise((resolve) => { this.#markStarted = resolve })
    if (files.size === 0) return
    const { port1, port2 } = new MessageChannel()
    this.#port = port1
    const task: FilesTask = { file: [], infos: [], list: [], port: port2 }
    for (const [part, value] of files) {
      if (value instanceof UploadedFiles) {
        this.#lists.push(value[Symbol.asyncIterator]())
        task.list.push(part)
        continue
      }
      const index = this.#register(value)
      task.file.push(part)
      // The method in the worker knows a part's headers when an inline method would: those that arrived already
      // travel with the task, later ones as soon as they arrive (an inline method sees them appear at once).
      task.infos[index] = null
      value[WHEN_ARRIVED]((info) => {
        task.infos[index] = info
        this.#post({ t: 'info', file: index, info })
      })
    }
    this.filesTask = task
  }

  /** Whether the call has file arguments (and so a port, and an upload lane). */
  get hasFiles (): boolean { return this.#port !== undefined }

  /** A report from the worker about this call. */
  receive (report: CallReport): void {
    switch (report.t) {
      case 'start':
        this.threadId = report.threadId
        this.#markStarted()
        break
      case 'outcome': this.#finish(this.#outcomeOf(report.outcome)); break
      case 'log': {
        const log = this.#context.log[report.level].bind(this.#context.log)
        if (report.obj === undefined) log(report.msg)
        else log(report.obj, report.msg)
        break
      }
      // These run in the main thread on the worker's behalf: whatever they throw fails that file, never the process.
      case 'ready': this.#sendInfo(report.file).catch((err: unknown) => this.#failFile(report.file, err)); break
      case 'open': this.#open(report.file).catch((err: unknown) => this.#failFile(report.file, err)); break
      case 'ack': this.#senders.get(report.file)?.ack(report.n); break
      case 'next': this.#next(report.list).catch((err: unknown) => this.#post({ t: 'items-fail', list: report.list, error: asRpcError(err).toJSON() })); break
    }
  }

  /**
   * The pool's task for this call ended: with `failure` when the worker died or refused it. A task that ended well
   * posted its outcome first, so the report is on its way.
   */
  taskEnded (failure?: RpcError): void {
    this.#port?.close()
    if (failure !== undefined) {
      this.fail(failure)
      return
    }
    if (this.#settled) return
    setTimeout(() => {
      if (!this.#settled) this.fail(new RpcError(ErrorCode.WORKER_CRASHED, 'the worker running the method ended it without an outcome'))
    }, OUTCOME_AFTER_TASK_MS).unref()
  }

  /**
   * Tells the worker the call was aborted, down the call's port when it has one: ahead of the file failures the abort
   * causes, so the method's signal has fired when its streams fail. (Every worker also hears it on the pool's control
   * channel, which reaches a call without files, or one not yet started.)
   */
  abort (reason: RpcError): void {
    this.#post({ t: 'abort', error: reason.toJSON() })
  }

  /** The call failed on the main side (crash, timeout, shutdown): its outcome is this error, a running download errors. */
  fail (err: RpcError): void {
    for (const sender of this.#senders.values()) sender.cancel()
    if (this.#download !== undefined && !this.#download.complete) this.#download.destroy(err)
    this.#finish({ kind: 'error', error: err })
  }

  #finish (outcome: Outcome): void {
    if (this.#settled) return
    this.#settled = true
    this.#settle(outcome)
  }

  #outcomeOf (wire: WireOutcome): Outcome {
    if (wire.kind === 'json') return wire
    if (wire.kind === 'error') return { kind: 'error', error: RpcError.fromJSON(wire.error) }
    const port = wire.port
    const post = (message: DownloadToWorker): void => port.postMessage(message)
    const stream = new CreditReceiver((n) => post({ t: 'ack', n }), () => {
      post({ t: 'cancel' })
      port.close()
    })
    this.#download = stream
    port.on('message', (message: DownloadToMain) => {
      if (message.t === 'data') stream.receive(message.chunks)
      else if (message.t === 'end') stream.finish()
      else stream.destroy(RpcError.fromJSON(message.error))
    })
    // The worker closes its end after the last byte; a close before that is a worker that died mid-download.
    port.once('close', () => {
      if (!stream.complete) stream.destroy(new RpcError(ErrorCode.WORKER_CRASHED, 'the worker sending the download stopped'))
    })
    return {
      kind: 'download',
      download: new Download(() => stream, {
        ...(wire.filename === undefined ? {} : { filename: wire.filename }),
        type: wire.type,
        ...(wire.size === undefined ? {} : { size: wire.size })
      })
    }
  }

  #register (file: UploadedFile): number {
    let index = this.#fileNumbers.get(file)
    if (index === undefined) {
      index = this.#files.push(file) - 1
      this.#fileNumbers.set(file, index)
    }
    return index
  }

  #post (message: MainToWorker, transfer?: ArrayBuffer[]): void {
    try {
      this.#port?.postMessage(message, transfer)
    } catch {
      // The port closed: the call is over.
    }
  }

  async #sendInfo (index: number): Promise<void> {
    const file = this.#files[index] as UploadedFile
    try {
      this.#post({ t: 'info', file: index, info: await file.ready() })
    } catch (err) {
      this.#failFile(index, err)
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
      this.#failFile(index, err)
      return
    }
    this.#senders.set(index, new CreditSender(file.stream, {
      data: (chunks, transfer) => this.#post({ t: 'data', file: index, chunks }, transfer),
      end: () => this.#post({ t: 'end', file: index }),
      error: (err) => this.#failFile(index, err)
    }, { handOver: hasExclusiveChunks(file.stream) }))
  }

  async #next (list: number): Promise<void> {
    const iterator = this.#lists[list] as AsyncIterator<UploadedFile>
    try {
      const item = await iterator.next()
      if (item.done === true) {
        this.#post({ t: 'items-end', list })
        return
      }
      const file = item.value
      this.#post({ t: 'item', list, file: this.#register(file), info: await file.ready() })
    } catch (err) {
      this.#post({ t: 'items-fail', list, error: asRpcError(err).toJSON() })
    }
  }
}

function asRpcError (err: unknown): RpcError {
  return err instanceof RpcError
    ? err
    : new RpcError(ErrorCode.INVALID_REQUEST, `the upload failed: ${(err as Error).message ?? String(err)}`)
}
