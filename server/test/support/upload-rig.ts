/**
 * Drives an UploadSession the way handle-multipart-call.ts does, with a body played by test code: each part is a
 * real PassThrough the session reads while the test writes into it, with the parser's backpressure (a part nobody
 * reads holds the body, as busboy holds the socket) and the parser's failure reporting (a part that errors fails
 * the session; a failure stops the body, as `parse.stop()` does).
 */
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { watch, type FSWatcher } from 'node:fs'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { RpcError } from '@formcall/spec'
import { bindPlaceholders, type BoundArgs } from '../../src/bind/bind-placeholders.js'
import { CallBinder } from '../../src/bind/call-binder.js'
import type { Spool } from '../../src/bind/spool-to-disk.js'
import { UploadSession } from '../../src/bind/upload-session.js'
import type { FileInfo } from '../../src/bind/uploaded-file.js'
import { DEFAULT_LIMITS, type Limits } from '../../src/options.js'
import { ByteLimit } from '../../src/parse/byte-limit.js'
import { limitError, mapMultipartError } from '../../src/parse/multipart-errors.js'
import { PART_HIGH_WATER_MARK } from '../../src/parse/part-buffer.js'

/** The size of the chunks the body is written in. */
export const CHUNK = 8 * 1024
/** Big enough that an unread part cannot sit in the stream buffers: the body waits until it is read or spooled. */
export const BIG = 12 * PART_HIGH_WATER_MARK

/** Deterministic bytes, different for every seed, so that a reordered or mixed-up file cannot pass for another. */
export function contentOf (seed: string, size: number): Buffer {
  const out = Buffer.alloc(size)
  for (let at = 0, block = 0; at < size; at += 32, block++) {
    createHash('sha256').update(`${seed}:${block}`).digest().copy(out, at)
  }
  return out
}

/** Length and hash: what tables compare, so a mismatch reads as a line rather than a buffer dump. */
export function fingerprint (bytes: Buffer): string {
  return `${bytes.length}:${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`
}

/** One part of the body. */
export interface PartSpec {
  readonly name: string
  /** `null` for a text part. */
  readonly filename: string | null
  readonly type: string
  readonly bytes: Buffer
  /** The part's own size limit, counted by a ByteLimit as parse-multipart counts one below busboy's cap. */
  readonly fileSize?: number
}

/** A file part of `size` bytes whose content is seeded by `seed` (default: its name). */
export function filePart (name: string, size: number, options: { seed?: string, filename?: string, type?: string, fileSize?: number } = {}): PartSpec {
  return {
    name,
    filename: options.filename ?? `${name}.bin`,
    type: options.type ?? 'application/octet-stream',
    bytes: contentOf(options.seed ?? name, size),
    ...(options.fileSize === undefined ? {} : { fileSize: options.fileSize })
  }
}

/** A text part, with the headers parse-multipart gives one. */
export function textPart (name: string, value: string): PartSpec {
  return { name, filename: null, type: 'text/plain;charset=utf-8', bytes: Buffer.from(value) }
}

/** A part being written into the session. */
export class PartFeed {
  readonly spec: PartSpec
  /** What the session was handed: the part itself, or its size counter. */
  readonly stream: Readable
  readonly #raw = new PassThrough({ highWaterMark: PART_HIGH_WATER_MARK })
  readonly #rig: Rig
  #written = 0
  /**
   * Resolves once the part's own stream ended, which is once whoever reads it (the method, a spool, the discarding)
   * took every byte: busboy finishes the body only after every part has, so {@link Rig.end} waits for this.
   */
  readonly ended: Promise<void>

  constructor (spec: PartSpec, rig: Rig) {
    this.spec = spec
    this.#rig = rig
    this.ended = once(this.#raw, 'end').then(() => {}, () => {})
    const fail = (err: unknown): void => rig.session.fail(mapMultipartError(err))
    this.#raw.on('error', fail)
    if (spec.fileSize === undefined) {
      this.stream = this.#raw
    } else {
      const limited = this.#raw.pipe(ByteLimit.of(spec.fileSize, () =>
        limitError('fileSize', spec.fileSize as number, `file part "${spec.name}"`, { part: spec.name })))
      limited.on('error', fail)
      this.stream = limited
    }
  }

  /** Bytes written so far. */
  get written (): number { return this.#written }

  /**
   * Writes the part's bytes up to `upTo`, waiting whenever the part's buffer is full. Resolves false if the body
   * stopped (the session failed) or the part broke before all were written.
   */
  async write (upTo = this.spec.bytes.length): Promise<boolean> {
    while (this.#written < upTo) {
      if (this.#rig.stopped || this.#raw.destroyed) return false
      const end = Math.min(upTo, this.#written + CHUNK)
      const room = this.#raw.write(this.spec.bytes.subarray(this.#written, end))
      this.#written = end
      if (!room) {
        const waiting = new AbortController()
        const { signal } = waiting
        await Promise.race([once(this.#raw, 'drain', { signal }), once(this.#raw, 'close', { signal }), this.#rig.whenStopped])
          .catch(() => {})
          .finally(() => waiting.abort())
      }
    }
    return !this.#rig.stopped && !this.#raw.destroyed
  }

  /** The part's closing boundary. */
  end (): void {
    if (!this.#rig.stopped) this.#raw.end()
  }

  /** The body breaks inside this part, as busboy reports it (the part errors; parse-multipart fails the upload). */
  cut (): void {
    this.#raw.destroy(new Error('Part terminated early due to unexpected end of multipart data'))
  }
}

/** An UploadSession that counts the spools it starts; everything else is the session's own. */
class CountingSession extends UploadSession {
  spools = 0

  override spool (part: Readable): Spool {
    this.spools++
    return super.spool(part)
  }
}

/** How a call's method ended. */
export type Outcome = { ok: true, value: unknown } | { ok: false, error: unknown }

/** Rejections of `promise`, as a value: an assertion can then say what a stream or read came to. */
export async function outcomeOf (promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await promise }
  } catch (error) {
    return { ok: false, error }
  }
}

/** What a failed outcome failed with: an RpcError's code, a Node error's code, else the error's name and message. */
export function codeOf (outcome: Outcome): number | string {
  if (outcome.ok) return 'ok'
  const err = outcome.error as { code?: unknown, name?: unknown, message?: unknown }
  if (typeof err.code === 'number' || typeof err.code === 'string') return err.code
  return `${String(err.name)}: ${String(err.message)}`
}

/**
 * The session of one request, its body, and a spool directory of its own (fresh from mkdtemp, removed by
 * {@link Rig.close}).
 */
export class Rig {
  readonly session: CountingSession
  /** Each report to the session's `onFailure`, in order. */
  readonly failures: RpcError[] = []
  readonly spoolDir: SpoolDir
  readonly limits: Limits
  /** Resolves once the body stopped because the upload failed. */
  readonly whenStopped: Promise<void>
  #stop!: () => void
  #stopped = false
  #parts: PartFeed[] = []

  private constructor (spoolDir: SpoolDir, limits: Partial<Limits>, exclusiveChunks: boolean) {
    this.spoolDir = spoolDir
    this.limits = { ...DEFAULT_LIMITS, ...limits }
    this.whenStopped = new Promise((resolve) => { this.#stop = resolve })
    this.session = new CountingSession({
      limits: this.limits,
      tmpDir: spoolDir.path,
      exclusiveChunks,
      onFailure: (err) => {
        this.failures.push(err)
        // The route answers at once and stops reading the body.
        this.#stopped = true
        this.#stop()
      }
    })
  }

  /** `exclusiveChunks`: the session's, as a request nobody else listens to would set it. */
  static async open (limits: Partial<Limits> = {}, options: { exclusiveChunks?: boolean } = {}): Promise<Rig> {
    return new Rig(await SpoolDir.make(), limits, options.exclusiveChunks === true)
  }

  get stopped (): boolean { return this.#stopped }
  /** The parts that arrived, in order. */
  get parts (): readonly PartFeed[] { return this.#parts }

  /** Binds the placeholders in `params` to the session's file objects, as runCall does; returns the bound args. */
  bindArgs<T extends unknown[]> (params: T): T {
    return this.bind(params).args as T
  }

  /** Binds the placeholders in `params` to the session's file objects, as runCall does. */
  bind (params: unknown[]): BoundArgs {
    return bindPlaceholders(params, new CallBinder(this.session, undefined))
  }

  /** A part's headers arrive: the session is handed its stream, with no bytes yet. */
  arrive (spec: PartSpec): PartFeed {
    const feed = new PartFeed(spec, this)
    this.#parts.push(feed)
    const info: FileInfo = { field: spec.name, filename: spec.filename, type: spec.type }
    if (!this.#stopped) this.session.onPart(feed.stream, info)
    return feed
  }

  /** A whole part; false if the body stopped before it was through. */
  async sendPart (spec: PartSpec): Promise<boolean> {
    const feed = this.arrive(spec)
    const through = await feed.write()
    feed.end()
    return through
  }

  /** The closing boundary, reported as busboy reports it: once every part's stream has ended. */
  async end (): Promise<void> {
    await Promise.race([Promise.all(this.#parts.map(async (part) => await part.ended)), this.whenStopped])
    if (!this.#stopped) this.session.onEnd()
  }

  /**
   * Parts in order, then (unless `end` is false) the closing boundary: 'complete', or 'stopped' if the upload failed
   * on the way.
   */
  async send (specs: readonly PartSpec[], options: { end?: boolean } = {}): Promise<'complete' | 'stopped'> {
    for (const spec of specs) {
      if (!await this.sendPart(spec)) return 'stopped'
    }
    if (options.end !== false) await this.end()
    return this.#stopped ? 'stopped' : 'complete'
  }

  /**
   * The method's run as runCall and handle-multipart-call make it: bind waits for the first part, a failure before
   * the start means the method never runs, and the session is settled once the method returned.
   */
  async call (method: () => Promise<unknown>): Promise<Outcome & { started: boolean }> {
    await this.session.bind()
    const failure = this.session.failure
    if (failure !== undefined) return { ok: false, error: failure, started: false }
    const outcome = await outcomeOf(method())
    this.session.settle()
    return { ...outcome, started: true }
  }

  /**
   * The request is over: cleanup() (twice, as it must be safe to repeat), then waits until every spool the session
   * started has had its file created and the file system is idle. Resolves with what is left in the spool directory,
   * which is removed.
   */
  async close (): Promise<string[]> {
    this.session.cleanup()
    this.session.cleanup()
    try {
      return await this.spoolDir.settled(this.session.spools)
    } finally {
      await this.spoolDir.remove()
    }
  }
}

/**
 * A fresh spool directory that records every spool file that ever appears in it, so a test can wait for the files of
 * the spools a session started (fs-capacitor creates each file asynchronously, and removes it asynchronously too).
 */
export class SpoolDir {
  readonly path: string
  readonly #seen = new Set<string>()
  readonly #watcher: FSWatcher
  #changed: (() => void) | undefined

  private constructor (path: string) {
    this.path = path
    this.#watcher = watch(path, (_event, name) => {
      if (name !== null && name.startsWith('capacitor-')) this.#seen.add(name)
      this.#changed?.()
    })
    // A row that fails by hanging must not keep the test process alive as well.
    this.#watcher.unref()
  }

  static async make (): Promise<SpoolDir> {
    return new SpoolDir(await mkdtemp(join(tmpdir(), 'formcall-session-test-')))
  }

  /** Spool files present now. */
  async list (): Promise<string[]> {
    const names = await readdir(this.path)
    for (const name of names) this.#seen.add(name)
    return names
  }

  /** Waits until some spool file holds at least `size` bytes: what it holds has passed the spool budget. */
  async holding (size: number): Promise<void> {
    const biggest = async (): Promise<number> => {
      const sizes = await Promise.all((await this.list()).map(async (name) => await stat(join(this.path, name)).then((s) => s.size, () => 0)))
      return Math.max(0, ...sizes)
    }
    while (await biggest() < size) {
      await new Promise<void>((resolve) => {
        this.#changed = resolve
        void biggest().then((now) => { if (now >= size) resolve() }, () => {})
      })
      this.#changed = undefined
    }
  }

  /** How many distinct spool files have appeared so far. */
  get seen (): number { return this.#seen.size }

  /**
   * Waits until `expected` spool files have appeared and no file system request of this process is pending (so no
   * removal is on its way), then resolves with the directory's entries.
   */
  async settled (expected: number): Promise<string[]> {
    while (this.#seen.size < expected) {
      await new Promise<void>((resolve) => {
        this.#changed = resolve
        // A file may have come and gone before the watcher saw it: look once more, after arming.
        void this.list().then(() => { if (this.#seen.size >= expected) resolve() }, () => {})
      })
      this.#changed = undefined
    }
    while (process.getActiveResourcesInfo().some((kind) => kind.startsWith('FSReq'))) await nextTurn()
    return await readdir(this.path)
  }

  async remove (): Promise<void> {
    this.#watcher.close()
    await rm(this.path, { recursive: true, force: true })
  }
}
