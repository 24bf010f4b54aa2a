import type { Readable } from 'node:stream'
import { RpcError, type UploadPlaceholder } from '@formcall/spec'
import { uploadKey, type FileBinder } from '../../bind/bind-placeholders.js'
import { UploadedFile, UploadedFiles, type FileInfo, type FileSource } from '../../bind/uploaded-file.js'
import { CreditReceiver } from './credit-flow.js'
import type { CallReport, FilesTask, MainToWorker } from './messages.js'

/**
 * A worker call's file arguments, as the binder the worker binds its params with: each placeholder becomes a file
 * object whose headers and bytes come down the call's port from the request's parts in the main thread. The worker
 * binds with the server's own `bindPlaceholders`, so its method gets file objects at exactly the places an inline
 * method would, and nowhere else.
 */
export class PortFiles implements FileBinder {
  readonly #task: FilesTask
  readonly #report: (report: CallReport) => void
  readonly #index = new Map<string, number>()
  readonly #sources = new Map<number, PortFileSource>()
  readonly #lists = new Map<number, PortFileList>()
  #failure: Error | undefined

  readonly #onAbort: (reason: RpcError) => void

  /** `onAbort` hears an abort that came down the port (before the file failures it causes). */
  constructor (task: FilesTask, report: (report: CallReport) => void, onAbort: (reason: RpcError) => void = () => {}) {
    this.#task = task
    this.#report = report
    this.#onAbort = onAbort
    task.file.forEach((part, index) => this.#index.set(part, index))
    task.port.on('message', (message: MainToWorker) => this.#receive(message))
  }

  file (part: string): UploadedFile {
    const index = this.#index.get(part)
    if (index === undefined) throw new Error(`part "${part.slice(0, 100)}" was not bound by the server`)
    return new UploadedFile(part, this.source(index, this.#task.infos[index] ?? undefined))
  }

  /**
   * A resumable upload the main thread bound, checked and opened for this call: its bytes come down the port like a
   * part's. The main thread binds every upload placeholder of a call before it reaches a worker (or refuses the call).
   */
  upload (placeholder: UploadPlaceholder): UploadedFile {
    const key = uploadKey(placeholder.id)
    const index = this.#index.get(key)
    if (index === undefined) throw new Error(`upload "${placeholder.id.slice(0, 100)}" was not bound by the server`)
    return new UploadedFile(key, this.source(index, this.#task.infos[index] ?? undefined))
  }

  files (part: string): UploadedFiles {
    const index = this.#task.list.indexOf(part)
    if (index === -1) throw new Error(`list "${part.slice(0, 100)}" was not bound by the server`)
    const list = new PortFileList(index, this)
    this.#lists.set(index, list)
    return new UploadedFiles(part, list)
  }

  /** @internal The source of file `index` (made once). */
  source (index: number, info?: FileInfo): PortFileSource {
    let source = this.#sources.get(index)
    if (source === undefined) {
      source = new PortFileSource(index, (report) => this.#report(report), info)
      if (this.#failure !== undefined) source.fail(this.#failure)
      this.#sources.set(index, source)
    }
    return source
  }

  /** @internal Asks the main thread for the next item of list `index`. */
  next (index: number): void { this.#report({ t: 'next', list: index }) }

  /** The call was aborted: every file not read to its end fails with `err`. */
  fail (err: Error): void {
    this.#failure ??= err
    for (const source of this.#sources.values()) source.fail(err)
  }

  /** The call is over: the port goes, and with it any listener keeping the worker's loop alive. */
  close (): void { this.#task.port.close() }

  #receive (message: MainToWorker): void {
    switch (message.t) {
      case 'info': this.#sources.get(message.file)?.setInfo(message.info); break
      case 'data': this.#sources.get(message.file)?.data(message.chunks); break
      case 'end': this.#sources.get(message.file)?.end(); break
      case 'fail': this.#sources.get(message.file)?.fail(RpcError.fromJSON(message.error)); break
      case 'item': this.#lists.get(message.list)?.item(message.file, message.info); break
      case 'items-end': this.#lists.get(message.list)?.end(); break
      case 'items-fail': this.#lists.get(message.list)?.fail(RpcError.fromJSON(message.error)); break
      case 'abort': this.#onAbort(RpcError.fromJSON(message.error)); break
    }
  }
}

/** A file whose part lives in the main thread: bytes arrive as port messages, paced by acks. */
class PortFileSource implements FileSource {
  info: FileInfo | undefined
  readonly #index: number
  readonly #report: (report: CallReport) => void
  #stream: CreditReceiver | undefined
  #error: Error | undefined
  #readyWaiters: Array<{ resolve: (info: FileInfo) => void, reject: (err: Error) => void }> = []

  constructor (index: number, report: (report: CallReport) => void, info?: FileInfo) {
    this.#index = index
    this.#report = report
    this.info = info
  }

  async ready (): Promise<FileInfo> {
    if (this.info !== undefined) return this.info
    if (this.#error !== undefined) throw this.#error
    return await new Promise((resolve, reject) => {
      this.#readyWaiters.push({ resolve, reject })
      this.#report({ t: 'ready', file: this.#index })
    })
  }

  open (): Readable {
    const stream = new CreditReceiver((n) => this.#report({ t: 'ack', file: this.#index, n }))
    this.#stream = stream
    if (this.#error !== undefined) {
      const err = this.#error
      process.nextTick(() => stream.destroy(err))
    } else {
      this.#report({ t: 'open', file: this.#index })
    }
    return stream
  }

  setInfo (info: FileInfo): void {
    this.info = info
    for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve(info)
  }

  data (chunks: Uint8Array[]): void { this.#stream?.receive(chunks) }
  end (): void { this.#stream?.finish() }

  fail (err: Error): void {
    if (this.#error !== undefined) return
    this.#error = err
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(err)
    this.#stream?.destroy(err)
  }
}

/** The parts of one `$files` list, pulled from the main thread one at a time. */
class PortFileList implements AsyncIterable<UploadedFile> {
  readonly #index: number
  readonly #files: PortFiles
  #next: { resolve: (r: IteratorResult<UploadedFile>) => void, reject: (err: Error) => void } | undefined

  constructor (index: number, files: PortFiles) {
    this.#index = index
    this.#files = files
  }

  [Symbol.asyncIterator] (): AsyncIterator<UploadedFile> {
    return {
      next: async () => await new Promise((resolve, reject) => {
        this.#next = { resolve, reject }
        this.#files.next(this.#index)
      })
    }
  }

  item (file: number, info: FileInfo): void {
    this.#take()?.resolve({ value: new UploadedFile(info.field, this.#files.source(file, info)), done: false })
  }

  end (): void { this.#take()?.resolve({ value: undefined, done: true }) }
  fail (err: Error): void { this.#take()?.reject(err) }

  #take (): { resolve: (r: IteratorResult<UploadedFile>) => void, reject: (err: Error) => void } | undefined {
    const next = this.#next
    this.#next = undefined
    return next
  }
}
