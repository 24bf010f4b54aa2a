/**
 * The worker's side of one call, played by test code against the real main-thread end (CallBridge): it reports what
 * a worker reports (messages.ts) straight to the bridge, as the pool's router does, and queues what the main thread
 * sends down the call's files port, so a test can await each message in order.
 */
import { Readable } from 'node:stream'
import type { MessagePort } from 'node:worker_threads'
import type { FastifyBaseLogger } from 'fastify'
import type { FileInfo, FileSource, UploadedFile, UploadedFiles } from '../../src/bind/uploaded-file.js'
import type { CallContext } from '../../src/dispatch/call-context.js'
import { CallBridge } from '../../src/dispatch/worker/call-bridge.js'
import type { CallReport, MainToWorker } from '../../src/dispatch/worker/messages.js'

export class WorkerPeer {
  readonly #bridge: CallBridge
  readonly #queue: MainToWorker[] = []
  #wake: (() => void) | undefined

  constructor (bridge: CallBridge) {
    this.#bridge = bridge
    const port = bridge.filesTask?.port
    if (port !== undefined) {
      channels.add(port)
      port.on('message', (message: MainToWorker) => {
        this.#queue.push(message)
        this.#wake?.()
      })
    }
  }

  /** The files port of the call, as the worker holds it (undefined for a call without files). */
  get port (): MessagePort | undefined { return this.#bridge.filesTask?.port }

  /** Reports to the main thread, as a worker does up its parentPort. */
  post (report: CallReport): void {
    this.#bridge.receive(report)
  }

  /** The next message from the main thread. */
  async take (): Promise<MainToWorker> {
    while (this.#queue.length === 0) {
      await new Promise<void>((resolve) => { this.#wake = resolve })
      this.#wake = undefined
    }
    return this.#queue.shift() as MainToWorker
  }

  /** The next `count` messages. */
  async takeMany (count: number): Promise<MainToWorker[]> {
    const out: MainToWorker[] = []
    while (out.length < count) out.push(await this.take())
    return out
  }
}

const channels = new Set<MessagePort>()

/** Closes the ports {@link openBridge} made, so a failed test leaves no port keeping the process alive. */
export function closeBridges (): void {
  for (const port of channels) port.close()
  channels.clear()
}

/** One log call the bridge forwarded to the request's logger. */
export type LogLine = [level: string, ...args: unknown[]]

/** A call's bridge for the call's bound files (none by default), its worker end, and what the request's logger was told. */
export function openBridge (files: ReadonlyMap<string, UploadedFile | UploadedFiles> = new Map()): { bridge: CallBridge, worker: WorkerPeer, logs: LogLine[] } {
  const logs: LogLine[] = []
  const line = (level: string) => (...args: unknown[]): void => { logs.push([level, ...args]) }
  const log = {
    level: 'info',
    trace: line('trace'),
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    fatal: line('fatal'),
    silent: () => {},
    child: () => log
  } as unknown as FastifyBaseLogger
  const context: CallContext = { method: 'm', id: 1, headers: {}, remoteAddress: '127.0.0.1', signal: new AbortController().signal, log }
  const bridge = new CallBridge(1, context, files)
  return { bridge, worker: new WorkerPeer(bridge), logs }
}
/**
 * A file's part, held by the test: it arrives when the test says, and its bytes are a Readable the test pushes
 * into, so the test sees exactly when the bridge pauses it.
 */
export class HeldPart implements FileSource {
  info: FileInfo | undefined
  readonly stream = new Readable({ read () {} })
  opened = 0
  /** Resolves once the bridge asked for the headers (it does before anything else it does for a file). */
  readonly asked: Promise<void>
  /** Resolves once the bridge opened the stream. */
  readonly whenOpened: Promise<void>
  readonly #arrived: Promise<FileInfo>
  #resolve!: (info: FileInfo) => void
  #reject!: (err: Error) => void
  #ask!: () => void
  #open!: () => void
  #listeners: Array<(info: FileInfo) => void> = []

  constructor () {
    this.#arrived = new Promise((resolve, reject) => { this.#resolve = resolve; this.#reject = reject })
    this.#arrived.catch(() => {})
    this.asked = new Promise((resolve) => { this.#ask = resolve })
    this.whenOpened = new Promise((resolve) => { this.#open = resolve })
  }

  arrive (info: FileInfo): void {
    this.info = info
    this.#resolve(info)
    for (const listener of this.#listeners.splice(0)) listener(info)
  }

  /** The part will never come (the body ended without it, or the upload failed first). */
  never (err: Error): void {
    this.#reject(err)
  }

  async ready (): Promise<FileInfo> {
    this.#ask()
    return await this.#arrived
  }

  open (): Readable {
    this.opened++
    this.#open()
    return this.stream
  }

  onArrival (listener: (info: FileInfo) => void): void {
    if (this.info !== undefined) listener(this.info)
    else this.#listeners.push(listener)
  }
}
