/**
 * The worker's end of a call's MessagePort, played by test code: it sends what a worker sends (messages.ts) and
 * queues what the main thread answers, so a test can await each message in order.
 */
import { once } from 'node:events'
import { Readable } from 'node:stream'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { FastifyBaseLogger } from 'fastify'
import type { FileInfo, FileSource } from '../../src/bind/uploaded-file.js'
import type { CallContext } from '../../src/dispatch/call-context.js'
import { CallBridge } from '../../src/dispatch/worker/call-bridge.js'
import type { MainToWorker, WorkerToMain } from '../../src/dispatch/worker/messages.js'

export class WorkerPeer {
  readonly port: MessagePort
  readonly #queue: MainToWorker[] = []
  #wake: (() => void) | undefined

  constructor (port: MessagePort) {
    this.port = port
    port.on('message', (message: MainToWorker) => {
      this.#queue.push(message)
      this.#wake?.()
    })
  }

  post (message: WorkerToMain, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(message, transfer)
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

  /** Messages received and not taken yet. */
  get queued (): readonly MainToWorker[] { return this.#queue }
}

const channels = new Set<MessagePort>()

/** Closes the channels {@link openBridge} made, so a failed test leaves no port keeping the process alive. */
export function closeBridges (): void {
  for (const port of channels) port.close()
  channels.clear()
}

/** One log call the bridge forwarded to the request's logger. */
export type LogLine = [level: string, ...args: unknown[]]

/** A call's bridge on a fresh channel, its worker end, and what the request's logger was told. */
export function openBridge (): { bridge: CallBridge, worker: WorkerPeer, main: MessagePort, logs: LogLine[], closed: Promise<unknown> } {
  const { port1, port2 } = new MessageChannel()
  channels.add(port1).add(port2)
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
  const bridge = new CallBridge(port1, context)
  // The bridge's own listener was added first, so it has seen the close when this resolves.
  const closed = once(port1, 'close')
  return { bridge, worker: new WorkerPeer(port2), main: port1, logs, closed }
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
