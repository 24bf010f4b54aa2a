import { PassThrough, type Readable } from 'node:stream'
import type { FileInfo, FileSource } from './uploaded-file.js'
import { PART_HIGH_WATER_MARK } from '../parse/part-buffer.js'
import type { Spool } from './spool-to-disk.js'
import { markExclusiveChunks } from './exclusive-chunks.js'

/** What a slot asks of the request it belongs to. */
export interface SlotOwner {
  /** A reader waits for this slot's part, which has not arrived: let earlier parts out of the way. */
  waitFor (slot: FileSlot): void
  /** This slot's part ended (all its bytes are with the reader or in the spool). */
  partEnded (slot: FileSlot): void
  /** Starts spooling `part` to disk. */
  spool (part: Readable): Spool
  /** The parts' chunks are each the last reference to their memory once read (see {@link markExclusiveChunks}). */
  readonly exclusiveChunks: boolean
}

/**
 * Links one multipart part to one file object. The part may arrive before or after the method asks for the bytes;
 * it flows straight into the reader when possible, through a spool file when the method needs a later part first.
 */
export class FileSlot implements FileSource {
  readonly field: string
  info: FileInfo | undefined
  readonly #owner: SlotOwner
  #part: Readable | undefined
  #out: PassThrough | undefined
  #spool: Spool | undefined
  #partEnded = false
  #error: Error | undefined
  #abandoned = false
  /** The request is over and the spool gone: nothing more can be read from this slot. */
  #closed: Error | undefined
  #readyWaiters: Array<{ resolve: (info: FileInfo) => void, reject: (err: Error) => void }> = []
  #arrivalListeners: Array<(info: FileInfo) => void> = []

  constructor (field: string, owner: SlotOwner) {
    this.field = field
    this.#owner = owner
  }

  /** The part has arrived. */
  get arrived (): boolean { return this.#part !== undefined }
  /** Nothing more will happen to this slot's part: it ended, failed or was abandoned. */
  get settled (): boolean { return this.#partEnded || this.#error !== undefined || this.#abandoned }
  /** The method asked for the bytes. */
  get opened (): boolean { return this.#out !== undefined }

  open (): Readable {
    const out = new PassThrough({ highWaterMark: PART_HIGH_WATER_MARK })
    // A method may hold the stream without listening to it yet (it waits on another file first); if the upload fails
    // meanwhile, the stream must fail, not the process. Readers still get the error: `for await`, `pipeline()` and
    // `text()` reject with it, also when they start after the failure.
    out.on('error', () => {})
    // Its chunks are the part's own buffers, or those of reads from the spool file: no one else holds either.
    if (this.#owner.exclusiveChunks) markExclusiveChunks(out)
    this.#out = out
    if (this.#error !== undefined || this.#closed !== undefined) {
      const err = this.#error ?? this.#closed as Error
      process.nextTick(() => out.destroy(err))
    } else if (this.#part !== undefined) {
      this.#connect()
    } else {
      this.#owner.waitFor(this)
    }
    return out
  }

  async ready (): Promise<FileInfo> {
    if (this.info !== undefined) return this.info
    if (this.#error !== undefined) throw this.#error
    return await new Promise((resolve, reject) => {
      this.#readyWaiters.push({ resolve, reject })
      this.#owner.waitFor(this)
    })
  }

  onArrival (listener: (info: FileInfo) => void): void {
    if (this.info !== undefined) listener(this.info)
    else if (this.#error === undefined) this.#arrivalListeners.push(listener)
  }

  /** The part arrived. */
  attach (part: Readable, info: FileInfo): void {
    this.#part = part
    this.info = info
    part.once('end', () => {
      this.#partEnded = true
      this.#owner.partEnded(this)
    })
    for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve(info)
    for (const listener of this.#arrivalListeners.splice(0)) listener(info)
    if (this.#out !== undefined) this.#connect()
  }

  /** Moves the part's remaining bytes to disk, so the parser can reach later parts. */
  spool (): void {
    const part = this.#part
    if (part === undefined || this.settled || this.#spool !== undefined) return
    if (this.#out !== undefined) part.unpipe(this.#out)
    this.#spool = this.#owner.spool(part)
    if (this.#out !== undefined) this.#readSpool(this.#out)
  }

  /** The method is done with this file: discard what has not arrived yet. */
  abandon (): void {
    if (this.settled) return
    this.#abandoned = true
    this.#out?.destroy()
    this.#spool?.destroy()
    this.#drain()
  }

  /** The upload failed before this part ended: the reader's stream errors, never ends as if complete. */
  fail (err: Error): void {
    if (this.#partEnded || this.#error !== undefined) return
    this.#error = err
    this.#arrivalListeners = []
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(err)
    this.#out?.destroy(err)
    this.#spool?.destroy(err)
    this.#drain()
  }

  /**
   * The request is over (its response sent, or its client gone) and its spool files are about to be removed. A reader
   * still reading from the spool, or one that opens later, fails with `err`: even a part that arrived whole cannot be
   * read once its spool is gone, and a stream that stops without ending or failing would hang its reader.
   */
  close (err: Error): void {
    this.#closed ??= err
    const out = this.#out
    if (out !== undefined && this.#spool !== undefined && !out.readableEnded) out.destroy(err)
  }

  #connect (): void {
    const out = this.#out as PassThrough
    if (this.#spool !== undefined) this.#readSpool(out)
    else (this.#part as Readable).pipe(out)
  }

  #readSpool (out: PassThrough): void {
    let reader: Readable
    try {
      reader = (this.#spool as Spool).createReadStream()
    } catch (err) {
      // The spool is gone already (the request ended): the reader fails rather than the process.
      out.destroy(this.#closed ?? err as Error)
      return
    }
    // pipe() forwards no errors, and a spool that fails (its budget exceeded, the upload failed) destroys its readers
    // with the error: unhandled, that would be an uncaught exception. The reader's stream fails instead.
    reader.on('error', (err) => out.destroy(err))
    reader.pipe(out)
  }

  #drain (): void {
    const part = this.#part
    if (part === undefined || this.#partEnded) return
    part.unpipe()
    part.resume()
  }
}
