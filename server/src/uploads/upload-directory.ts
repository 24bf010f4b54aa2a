import { lstat, mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'

/**
 * Makes the upload directory safe to use, or fails the start: created `0700` if missing, and refused unless it is a
 * real directory (not a symbolic link) of the server's own user that no other user can enter. It holds every
 * client's uploaded bytes, so it gets the checks the spool directory gets; unlike the spool directory it is never
 * emptied at start, since unfinished uploads in it are meant to be resumed after a restart. Resolves with its absolute
 * path.
 *
 * @example
 * ```ts
 * const directory = await openUploadDirectory('/var/lib/app/uploads')
 * ```
 */
export async function openUploadDirectory (directory: string): Promise<string> {
  const path = resolve(directory)
  // EEXIST: a file is there, which the check below reports.
  await mkdir(path, { recursive: true, mode: 0o700 }).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err })
  const problem = await privacyProblem(path)
  if (problem !== undefined) {
    throw new Error(`uploads.directory "${path}" ${problem}; it holds uploaded data, so it must be a directory of the ` +
      'server\'s own user that no one else can enter (chmod 700)')
  }
  return path
}

/** Why `path` is not a directory private to this process's user, or undefined if it is. */
async function privacyProblem (path: string): Promise<string | undefined> {
  const info = await lstat(path)
  if (info.isSymbolicLink()) return 'is a symbolic link'
  if (!info.isDirectory()) return 'is not a directory'
  // Windows has neither owners nor mode bits here.
  const uid = process.getuid?.()
  if (uid === undefined) return undefined
  if (info.uid !== uid) return `belongs to uid ${info.uid}, not to the server's user (uid ${uid})`
  if ((info.mode & 0o077) !== 0) return `is open to other users (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})`
  return undefined
}
