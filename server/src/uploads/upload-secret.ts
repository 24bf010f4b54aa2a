import { randomBytes } from 'node:crypto'
import { link, lstat, open, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The file in the upload directory that holds the token key when `uploads.secret` is not given. */
export const SECRET_FILE = '.formcall-upload-secret'
const SECRET_BYTES = 32

/**
 * The key upload tokens are made with when the options give none: read from the upload directory, or made there
 * once. So a restarted server still binds the uploads it took before, and instances that share the directory share
 * the key without configuration. The directory is private to the server's user already (a reader of it could read
 * the uploads themselves); the file is made `0600` and refused unless it is a plain file of the server's user that
 * no one else can read. Two instances starting at once agree: the key is written to a file of this process's own and
 * published with `link`, which fails if another instance published first, whose key is then used.
 *
 * @example
 * ```ts
 * const secret = await uploadSecret('/var/lib/app/uploads')
 * ```
 */
export async function uploadSecret (directory: string): Promise<Uint8Array> {
  const path = join(directory, SECRET_FILE)
  const existing = await readSecret(path)
  if (existing !== undefined) return existing
  const draft = join(directory, `${SECRET_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`)
  await writeFile(draft, randomBytes(SECRET_BYTES), { mode: 0o600, flag: 'wx' })
  try {
    await link(draft, path).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err })
  } finally {
    await unlink(draft).catch(() => {})
  }
  const published = await readSecret(path)
  if (published === undefined) throw new Error(`uploads.directory: ${path} vanished while it was made; start the server again`)
  return published
}

/** The key in `path`, undefined when there is no such file; throws when the file is not safe to trust. */
async function readSecret (path: string): Promise<Uint8Array | undefined> {
  const info = await lstat(path).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err })
  if (info === undefined) return undefined
  const uid = process.getuid?.()
  const problem = !info.isFile()
    ? 'is not a plain file'
    : uid !== undefined && info.uid !== uid
      ? `belongs to uid ${info.uid}, not to the server's user (uid ${uid})`
      : uid !== undefined && (info.mode & 0o077) !== 0
        ? `is readable by other users (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})`
        : undefined
  if (problem !== undefined) {
    throw new Error(`uploads.directory: the token key ${path} ${problem}; remove it (a new key is made; tokens issued with ` +
      'the old one stop binding) or give uploads.secret')
  }
  // Opened and read as one file, so a key replaced in between is not half read.
  const handle = await open(path, 'r')
  try {
    const key = await handle.readFile()
    if (key.byteLength < SECRET_BYTES) {
      throw new Error(`uploads.directory: the token key ${path} has ${key.byteLength} bytes, not ${SECRET_BYTES}; remove it ` +
        '(a new key is made; tokens issued with the old one stop binding) or give uploads.secret')
    }
    return key
  } finally {
    await handle.close()
  }
}

