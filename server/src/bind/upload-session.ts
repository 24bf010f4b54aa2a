import type { Readable } from 'node:stream'
import { ErrorCode, RpcError } from '@formcall/spec'
import type { Limits } from '../options.js'
import { ByteLimit } from '../parse/byte-limit.js'
import { limitError } from '../parse/multipart-errors.js'
import { FileSlot, type SlotOwner } from './file-slot.js'
import { declaredTypeRefusal, FileGate, paramLimitError, type ParamRule } from './file-gate.js'
import { spoolToDisk, type Spool } from './spool-to-disk.js'
import { UploadedFile, UploadedFiles, type FileInfo } from './uploaded-file.js'

/** What {@link UploadSession.bind} resolves with when nothing is left to wait for. */
const ARRIVED = Promise.resolve()

/**
 * The files of one multipart request: routes each arriving part to the file object its placeholder became, keeps
 * the parser moving when the method reads out of order (by spooling the part in the way), drains parts nobody reads,
 * and removes every spool file at the end.
 *
 * Parts arrive strictly in body order and a part that is not read holds the parser (backpressure to the socket) once
 * its buffer is full; smaller parts arrive whole into their buffers, so several arrived parts can be unfinished at
 * once, and the parser ends the body only when every one of them has been read: `#unfinished`.
 */
export class UploadSession implements SlotOwner {
  readonly #limits: Limits
  readonly #tmpDir: string
  readonly #onFailure: (err: RpcError) => void
  readonly #files = new Map<string, { slot: FileSlot, file: UploadedFile }>()
  readonly #groups = new Map<string, FileGroup>()
  /** The rules of the method's file params, by part name. */
  readonly #rules = new Map<string, ParamRule>()
  readonly #waiting = new Set<FileSlot | FileGroup>()
  readonly #spools = new Set<Spool>()
  /** Parts that arrived and have not been read (or spooled) to their end. */
  readonly #unfinished = new Set<FileSlot>()
  /** Parts that arrived while the call was still being checked, in body order. */
  #pending: Array<{ part: Readable, info: FileInfo }> = []
  #bound = false
  #settled = false
  #ended = false
  #failure: RpcError | undefined
  #spooled = 0
  #sawPart = false
  #firstArrival: (() => void) | undefined
  /** Set while the call's params are the form's fields (PROTOCOL.md 13.3): every part is collected. */
  #form: FormCollector | undefined

  readonly exclusiveChunks: boolean

  /** `exclusiveChunks`: the body's chunks are formcall's alone (see {@link bodyChunksExclusive}); false if left out. */
  constructor (options: { limits: Limits, tmpDir: string, onFailure: (err: RpcError) => void, exclusiveChunks?: boolean }) {
    this.#limits = options.limits
    this.#tmpDir = options.tmpDir
    this.#onFailure = options.onFailure
    this.exclusiveChunks = options.exclusiveChunks === true
  }

  /** The first failure of the upload, if any. */
  get failure (): RpcError | undefined { return this.#failure }
  /** The body ended with its closing boundary. */
  get ended (): boolean { return this.#ended }

  /**
   * The file object for `{"$file": name}` (or krpc's `"__file__:…"`).
   *
   * @throws RpcError INVALID_PARAMS when the call references that part a second time (PROTOCOL.md section 3.5).
   */
  file (name: string): UploadedFile {
    const collected = this.#form?.file(name)
    if (collected !== undefined) return collected
    this.#assertUnbound(name)
    const slot = new FileSlot(name, this)
    const file = new UploadedFile(name, slot)
    this.#files.set(name, { slot, file })
    return file
  }

  /** The part `name` is a file param's: its bytes are held to `rule` as they arrive (PROTOCOL.md 12.3). */
  constrain (name: string, rule: ParamRule): void {
    this.#rules.set(name, rule)
  }

  /**
   * The file list for `{"$files": name}`.
   *
   * @throws RpcError INVALID_PARAMS when the call references that name a second time (PROTOCOL.md section 3.5).
   */
  files (name: string): UploadedFiles {
    const collected = this.#form?.files(name)
    if (collected !== undefined) return collected
    this.#assertUnbound(name)
    const group = new FileGroup(name, this)
    this.#groups.set(name, group)
    return group.files
  }

  /**
   * Placeholders are bound: parts from now on go to their file objects. Resolves when the first part after `json`
   * has arrived (or the body ended or failed), so the first file's `filename` and `type` are known when the method
   * starts; in a well-formed body that part follows at once.
   */
  bind (): Promise<void> {
    this.#bound = true
    for (const { part, info } of this.#pending.splice(0)) this.onPart(part, info)
    if (this.#ended) this.onEnd()
    if (this.#sawPart || this.#ended || this.#failure !== undefined) return ARRIVED
    // Not an async function: that and its await would be two promises more on every multipart call's way.
    return new Promise<void>((resolve) => { this.#firstArrival = resolve })
  }

  /**
   * The call has no params: they are the form's fields (PROTOCOL.md 13.3). Every part from now on (and those already
   * waiting) is collected: text fields read whole, files spooled so the parser reaches the fields after them; resolves
   * with the fields once the body has ended, rejects with the upload's failure.
   */
  async collectForm (): Promise<FormFields> {
    const form = this.#form = new FormCollector()
    this.#bound = true
    for (const { part, info } of this.#pending.splice(0)) this.onPart(part, info)
    if (this.#ended) this.onEnd()
    return await form.fields
  }

  /** A part after `json` arrived. */
  onPart (part: Readable, info: FileInfo): void {
    if (this.#settled || this.#failure !== undefined) {
      part.resume()
      return
    }
    if (this.#form !== undefined && this.#bound) {
      this.#collect(this.#form, part, info)
      return
    }
    if (!this.#bound) {
      // The call is still being checked (before-call hook, method lookup). busboy reports every part of a chunk at
      // once, before the `json` part's end is seen, so several parts can be waiting here; the last holds the parser.
      this.#pending.push({ part, info })
      return
    }
    this.#sawPart = true
    this.#wake()
    const entry = this.#files.get(info.field)
    if (entry !== undefined && !entry.slot.arrived) {
      this.#take(entry.slot, part, info)
      return
    }
    const group = this.#groups.get(info.field)
    if (group !== undefined) {
      this.#joinGroup(group, part, info)
      return
    }
    // Nothing references this part (or a second part reuses a `$file` name): read and discard it.
    part.resume()
  }

  /** A part of a `$files` list arrived: it joins the list, unless the list is at its param's `maxCount`. */
  #joinGroup (group: FileGroup, part: Readable, info: FileInfo): void {
    const rule = this.#rules.get(info.field)
    const maxCount = rule?.rule.maxCount
    if (rule !== undefined && maxCount !== undefined && group.slots.length >= maxCount) {
      part.resume()
      this.fail(paramLimitError(rule, info.field, 'maxCount', maxCount))
      return
    }
    const slot = new FileSlot(info.field, this)
    group.push(new UploadedFile(info.field, slot), slot)
    this.#take(slot, part, info)
  }

  /** The body is complete. Referenced parts that never came are missing files. */
  onEnd (): void {
    this.#ended = true
    if (!this.#bound) return
    this.#wake()
    this.#form?.end()
    for (const group of this.#groups.values()) group.end()
    // Once the method has answered, its unread files no longer matter (PROTOCOL.md 3.3: "unless the method already
    // answered"); parts that came after that were drained without reaching their slots.
    if (this.#settled) return
    for (const { slot } of this.#files.values()) {
      if (!slot.arrived) {
        this.fail(new RpcError(ErrorCode.MISSING_FILE,
          `the call refers to part "${slot.field}" but the body has no part of that name; send it after the "json" part`,
          { part: slot.field }))
        return
      }
    }
  }

  /** The upload failed: every unfinished file errors. Only the first failure counts. */
  fail (err: RpcError): void {
    if (this.#failure !== undefined) return
    this.#failure = err
    this.#wake()
    this.#form?.fail(err)
    for (const { part } of this.#pending.splice(0)) part.resume()
    for (const slot of this.#allSlots()) slot.fail(err)
    for (const group of this.#groups.values()) group.fail(err)
    this.#onFailure(err)
  }

  /** The method finished: parts it did not read are discarded as they arrive, so the body can complete. */
  settle (): void {
    this.#settled = true
    for (const { part } of this.#pending.splice(0)) part.resume()
    for (const slot of this.#allSlots()) slot.abandon()
    for (const group of this.#groups.values()) group.end()
  }

  /** Removes every spool file; readers still reading from one fail. Safe to call more than once. */
  cleanup (): void {
    // Made only for a call that had files: an Error (its stack captured) per request is a measurable cost.
    let over = this.#failure
    for (const slot of this.#allSlots()) {
      over ??= new RpcError(ErrorCode.ABORTED, 'the request is over: its files can no longer be read')
      slot.close(over)
    }
    for (const spool of this.#spools) spool.destroy()
    this.#spools.clear()
  }

  #wake (): void {
    const wake = this.#firstArrival
    this.#firstArrival = undefined
    wake?.()
  }

  waitFor (waiter: FileSlot | FileGroup): void {
    this.#waiting.add(waiter)
    // Every arrived part in the way is moved to disk, not only the latest: an earlier small one that nobody read
    // would otherwise keep the body from ending, and a method waiting for a later part or a list's end would hang.
    for (const slot of this.#unfinished) if (slot !== waiter) slot.spool()
  }

  partEnded (slot: FileSlot): void {
    this.#unfinished.delete(slot)
  }

  spool (part: Readable): Spool {
    const spool = spoolToDisk(part, {
      tmpDir: this.#tmpDir,
      budget: () => new ByteLimit((bytes) => (this.#spooled += bytes) <= this.#limits.spoolSize, () => limitError(
        'spoolSize', this.#limits.spoolSize, 'the bytes buffered to disk so the method could read its files out of order')),
      onError: (err) => this.fail(err instanceof RpcError
        ? err
        : new RpcError(ErrorCode.INTERNAL_ERROR, `spooling an upload to disk failed: ${err.message}`))
    })
    this.#spools.add(spool)
    return spool
  }

  /** A part of a form whose fields are the params: a text field is read, a file spooled into its name's list. */
  #collect (form: FormCollector, part: Readable, info: FileInfo): void {
    if (info.filename === null) {
      form.readText(part, info.field, (err) => this.fail(err))
      return
    }
    // A file input left empty is sent as a part with no filename and no bytes: no file, not an empty one.
    if (info.filename === '') {
      part.resume()
      return
    }
    let group = this.#groups.get(info.field)
    if (group === undefined) {
      this.#assertUnbound(info.field)
      group = new FileGroup(info.field, this)
      this.#groups.set(info.field, group)
      form.addList(info.field, group.files)
    }
    const before = group.slots.length
    this.#joinGroup(group, part, info)
    const slot = group.slots[before]
    if (slot === undefined) return
    form.addFile(info.field, group.queued[before] as UploadedFile)
    // Nobody reads before the body has ended: each file goes to disk, so the parser reaches the parts after it.
    slot.spool()
  }

  #take (slot: FileSlot, arrived: Readable, info: FileInfo): void {
    let part = arrived
    const rule = this.#rules.get(slot.field)
    if (rule !== undefined) {
      const refusal = declaredTypeRefusal(rule, slot.field, info.type)
      if (refusal !== undefined) {
        part.resume()
        this.fail(refusal)
        return
      }
      if (FileGate.needed(rule.rule, this.#limits.fileSize)) {
        part = FileGate.apply(part, rule, slot.field, (err) => this.fail(err instanceof RpcError
          ? err
          : new RpcError(ErrorCode.INTERNAL_ERROR, `checking the type of an upload failed: ${err.message}`)))
      }
    }
    this.#waiting.delete(slot)
    this.#unfinished.add(slot)
    slot.attach(part, info)
    // Someone waits for a later part: this one must not hold the parser.
    if (this.#waiting.size > 0 && !slot.settled) slot.spool()
  }

  * #allSlots (): Iterable<FileSlot> {
    for (const { slot } of this.#files.values()) yield slot
    for (const group of this.#groups.values()) yield * group.slots
  }

  /**
   * A part is referenced once per call. Its bytes are read once, as they arrive, so two parameters cannot both have
   * them: one would hang waiting for bytes the other took (or, sharing one object, find them gone). The call is
   * refused before its method starts instead.
   */
  #assertUnbound (name: string): void {
    if (this.#files.has(name) || this.#groups.has(name)) {
      throw new RpcError(ErrorCode.INVALID_PARAMS,
        `part "${name.slice(0, 100)}" is referenced twice in the params; a part is read once, so send the file once ` +
        'per parameter, each under its own part name', { part: name })
    }
  }

  /** @internal */
  removeWaiter (waiter: FileGroup): void {
    this.#waiting.delete(waiter)
  }
}

/** The parts of one `{"$files": name}` placeholder, as an async queue. */
class FileGroup {
  readonly files: UploadedFiles
  readonly slots: FileSlot[] = []
  /** Every file pushed, in order (the iteration queue empties as the method reads). */
  readonly queued: UploadedFile[] = []
  readonly #session: UploadSession
  readonly #queue: UploadedFile[] = []
  #next: { resolve: (r: IteratorResult<UploadedFile>) => void, reject: (err: Error) => void } | undefined
  #done = false
  #error: Error | undefined

  constructor (field: string, session: UploadSession) {
    this.#session = session
    const group = this
    this.files = new UploadedFiles(field, {
      [Symbol.asyncIterator]: () => ({ next: async () => await group.#pull() })
    })
  }

  push (file: UploadedFile, slot: FileSlot): void {
    this.slots.push(slot)
    this.queued.push(file)
    const next = this.#next
    if (next !== undefined) {
      this.#next = undefined
      this.#session.removeWaiter(this)
      next.resolve({ value: file, done: false })
    } else {
      this.#queue.push(file)
    }
  }

  end (): void {
    this.#done = true
    this.#settleNext()
  }

  fail (err: Error): void {
    this.#error ??= err
    this.#settleNext()
  }

  #settleNext (): void {
    const next = this.#next
    if (next === undefined) return
    this.#next = undefined
    this.#session.removeWaiter(this)
    if (this.#error !== undefined) next.reject(this.#error)
    else next.resolve({ value: undefined, done: true })
  }

  async #pull (): Promise<IteratorResult<UploadedFile>> {
    const file = this.#queue.shift()
    if (file !== undefined) return { value: file, done: false }
    if (this.#error !== undefined) throw this.#error
    if (this.#done) return { value: undefined, done: true }
    return await new Promise((resolve, reject) => {
      this.#next = { resolve, reject }
      this.#session.waitFor(this)
    })
  }
}

/** The fields of a form whose fields are a call's params (PROTOCOL.md 13.3), once its body has ended. */
export interface FormFields {
  /** Text fields by name, every value in body order. */
  readonly texts: ReadonlyMap<string, readonly string[]>
  /** File inputs by name: how many files each sent. */
  readonly files: ReadonlyMap<string, number>
}

/** Collects a form's fields while its body arrives. */
class FormCollector {
  readonly fields: Promise<FormFields>
  readonly #texts = new Map<string, string[]>()
  readonly #lists = new Map<string, UploadedFiles>()
  readonly #first = new Map<string, UploadedFile>()
  readonly #counts = new Map<string, number>()
  readonly #reading = new Set<Promise<void>>()
  #settle!: { resolve: (fields: FormFields) => void, reject: (err: Error) => void }

  constructor () {
    this.fields = new Promise((resolve, reject) => { this.#settle = { resolve, reject } })
    this.fields.catch(() => {})
  }

  /** Reads a text field whole (the parser bounds it by `fieldSize`). */
  readText (part: Readable, name: string, fail: (err: RpcError) => void): void {
    const chunks: Buffer[] = []
    const read = new Promise<void>((resolve) => {
      part.on('data', (chunk: Buffer) => chunks.push(chunk))
      part.once('end', () => {
        const values = this.#texts.get(name) ?? []
        values.push(Buffer.concat(chunks).toString('utf8'))
        this.#texts.set(name, values)
        resolve()
      })
      part.once('error', (err) => {
        fail(err instanceof RpcError ? err : new RpcError(ErrorCode.INVALID_REQUEST, `the form field "${name.slice(0, 100)}" could not be read`))
        resolve()
      })
    })
    this.#reading.add(read)
  }

  addList (name: string, files: UploadedFiles): void { this.#lists.set(name, files) }

  addFile (name: string, file: UploadedFile): void {
    if (!this.#first.has(name)) this.#first.set(name, file)
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + 1)
  }

  /** The one file of a file input, for `{"$file": name}`. */
  file (name: string): UploadedFile | undefined { return this.#first.get(name) }

  /** Every file of a file input, for `{"$files": name}`. */
  files (name: string): UploadedFiles | undefined { return this.#lists.get(name) }

  end (): void {
    void Promise.all(this.#reading).then(() => this.#settle.resolve({ texts: this.#texts, files: this.#counts }))
  }

  fail (err: Error): void { this.#settle.reject(err) }
}
