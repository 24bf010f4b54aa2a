import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { privacyProblem } from '../bind/spool-to-disk.js'

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
