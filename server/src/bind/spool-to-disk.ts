import { lstat, mkdir, mkdtemp, readdir, rm, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { threadId } from 'node:worker_threads'
import { WriteStream } from 'fs-capacitor'
import { DISK_READ_BYTES } from '../disk-read-size.js'
import { ByteLimit } from '../parse/byte-limit.js'

/**
 * A part's remaining bytes, written to a temp file that can be read while it is still being written (fs-capacitor).
 * Made only when a method waits for a later part while this one is unread, so in-order reads never touch the disk.
 */
export interface Spool {
  /** A reader of everything spooled so far and still to come. */
  createReadStream (): Readable
  /** Removes the temp file and fails readers with `err`, if given. */
  destroy (err?: Error): void
}

/**
 * Pipes `part` into a new temp file in `tmpDir`, counting against the request's spool budget.
 *
 * @example
 * ```ts
 * const spool = spoolToDisk(part, { tmpDir, budget, onError })
 * spool.createReadStream().pipe(consumer)
 * ```
 */
export function spoolToDisk (part: Readable, options: {
  tmpDir: string
  /** Counts the request's spooled bytes and fails once the request's `spoolSize` is exceeded. */
  budget: () => ByteLimit
  onError: (err: Error) => void
}): Spool {
  const file = new WriteStream({ tmpdir: () => options.tmpDir })
  const limiter = options.budget()
  limiter.on('error', (err) => {
    file.destroy(err)
    options.onError(err)
  })
  file.on('error', (err: NodeJS.ErrnoException) => {
    // Removing a spool file that is gone already (its directory was removed at close, or a later start took it for a
    // dead process's) is what the removal wanted; any other failure fails the upload.
    if (err.code === 'ENOENT' && err.syscall === 'unlink') return
    options.onError(err)
  })
  part.pipe(limiter).pipe(file)
  return {
    createReadStream: () => file.createReadStream({ highWaterMark: DISK_READ_BYTES }),
    destroy: (err?: Error) => {
      part.unpipe(limiter)
      file.destroy(err)
    }
  }
}

/** The directory a server's spool files go to, made safe at start. */
export interface SpoolDirectory {
  /** Where the spool files go. */
  readonly path: string
  /** At close: removes the directory if the server made it for this process (a named `spoolDirectory` stays). */
  close (): Promise<void>
}

/** fs-capacitor names its files `capacitor-<32 hex>.tmp`. */
const SPOOL_FILE = /^capacitor-[0-9a-f]+\.tmp$/
/** Per-process directories this process made and has not closed, in every copy of this module loaded in this thread. */
const LIVE: Set<string> = ((globalThis as Record<symbol, unknown>)[Symbol.for('formcall.spoolDirectories')] ??= new Set<string>()) as Set<string>

/**
 * Makes the spool directory safe before the server takes calls. Spool files hold uploaded bytes, so they go where
 * only the server's user can look, and a process that died (kill -9, out of memory, power loss) has its leftovers
 * removed by the next start instead of left to fill the disk:
 *
 * - `spoolDirectory` given: that directory, created `0700` if missing. It must be a real directory (not a symlink),
 *   owned by the server's user and closed to everyone else, or the start fails: a directory planted by another local
 *   user could be watched or swapped. It belongs to this one server: leftover spool files in it (`capacitor-*.tmp`)
 *   are removed at start; nothing else in it is touched.
 * - Otherwise a directory of this process's own, `formcall-spool-<uid>-<pid>-<thread>-XXXXXX`, made with `mkdtemp`
 *   (so `0700`, and a name nobody could plant) in `tmpDir` (default: the OS temp dir), and removed at close. Such
 *   directories of processes that are gone are removed at start. A `tmpDir` that is itself private to the user is
 *   used as the spool directory directly, as it was before `spoolDirectory` existed.
 *
 * Spool files themselves are created `0600` by fs-capacitor (`open(path, 'wx+', 0o600)`); nothing executable is
 * written.
 *
 * @example
 * ```ts
 * const spool = await openSpoolDirectory({ spoolDirectory: '/var/lib/app/spool' })
 * spoolToDisk(part, { tmpDir: spool.path, budget, onError })
 * await spool.close()
 * ```
 */
export async function openSpoolDirectory (options: { spoolDirectory?: string | undefined, tmpDir?: string | undefined }): Promise<SpoolDirectory> {
  if (options.spoolDirectory !== undefined) {
    if (options.spoolDirectory.trim() === '') throw new TypeError('spoolDirectory must not be empty; give a directory path or leave it unset')
    const path = resolve(options.spoolDirectory)
    // EEXIST: a file is there, which the check below reports.
    await mkdir(path, { recursive: true, mode: 0o700 }).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err })
    const problem = await privacyProblem(path)
    if (problem !== undefined) {
      throw new Error(`spoolDirectory "${path}" ${problem}; spool files hold uploaded data, so it must be a directory of ` +
        'the server\'s own user that no one else can enter (chmod 700), or leave spoolDirectory unset')
    }
    await removeSpoolFiles(path)
    return { path, close: async () => {} }
  }
  const parent = resolve(options.tmpDir ?? tmpdir())
  if (options.tmpDir !== undefined && await isPrivateTmpDir(parent)) {
    // A private tmpDir (one made with mkdtemp, as tests and packagers do) held the spool files directly before
    // spoolDirectory existed; it keeps doing so, and is then this server's the way a spoolDirectory is.
    await removeSpoolFiles(parent)
    return { path: parent, close: async () => {} }
  }
  const prefix = `formcall-spool-${process.getuid?.() ?? 'user'}-`
  await removeDeadProcessDirectories(parent, prefix)
  const path = await mkdtemp(join(parent, `${prefix}${process.pid}-${threadId}-`))
  LIVE.add(path)
  return {
    path,
    close: async () => {
      LIVE.delete(path)
      await rm(path, { recursive: true, force: true })
    }
  }
}

/**
 * Why `path` is not a directory private to this process's user, or undefined if it is: a real directory (not a
 * symbolic link) of the server's user that no other user can enter. The spool and upload directories both hold
 * clients' bytes.
 */
export async function privacyProblem (path: string): Promise<string | undefined> {
  const info = await lstat(path)
  if (info.isSymbolicLink()) return 'is a symbolic link'
  if (!info.isDirectory()) return 'is not a directory'
  // Windows has neither owners nor mode bits here; its per-user temp directory is private already.
  const uid = process.getuid?.()
  if (uid === undefined) return undefined
  if (info.uid !== uid) return `belongs to uid ${info.uid}, not to the server's user (uid ${uid})`
  if ((info.mode & 0o077) !== 0) return `is open to other users (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})`
  return undefined
}

/** Whether the `tmpDir` the server was given is private to its user already. */
async function isPrivateTmpDir (path: string): Promise<boolean> {
  try {
    return await privacyProblem(path) === undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    throw new Error(`tmpDir "${path}" does not exist; create it, or leave tmpDir unset for the OS temp dir`, { cause: err })
  }
}

/** Removes leftover fs-capacitor files at the top of `dir`; other entries stay. */
async function removeSpoolFiles (dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((name) => SPOOL_FILE.test(name))
  await Promise.all(names.map(async (name) => await unlink(join(dir, name)).catch(() => {})))
}

/**
 * Removes the per-process spool directories in `parent` whose process is gone. A process id can be reused: a
 * directory of a living process is kept even if that process is someone else's now (it is removed by a later start).
 * A directory with this process's id is this process's only if it was made by this thread and is still open, or by
 * another thread (which cannot be told apart from a reused id, so it is kept); one this thread did not make comes from
 * an earlier process that had the same id, as a server that is process 1 of a restarted container has.
 */
async function removeDeadProcessDirectories (parent: string, prefix: string): Promise<void> {
  let names: string[]
  try {
    names = await readdir(parent)
  } catch {
    return
  }
  const uid = process.getuid?.()
  await Promise.all(names.map(async (name) => {
    const match = name.startsWith(prefix) ? /^(\d+)-(\d+)-[A-Za-z0-9]{6}$/.exec(name.slice(prefix.length)) : null
    if (match === null) return
    const path = join(parent, name)
    const pid = Number(match[1])
    const alive = pid === process.pid ? Number(match[2]) !== threadId || LIVE.has(path) : isRunning(pid)
    if (alive) return
    const info = await lstat(path).catch(() => undefined)
    if (info === undefined || !info.isDirectory() || (uid !== undefined && info.uid !== uid)) return
    await rm(path, { recursive: true, force: true }).catch(() => {})
  }))
}

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but is another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
