import { createHash, randomBytes } from 'node:crypto'
import type { UploadedFile } from '@formcall/server'

/** Hex SHA-256 of some bytes. */
export function sha256 (data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** `size` random bytes: content no parser could mistake for framing by luck of a pattern. */
export function randomContent (size: number): Buffer {
  return randomBytes(size)
}

/** Size and SHA-256 of a file as a method reads it. */
export async function digestFile (file: UploadedFile): Promise<{ size: number, sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of file) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { size, sha256: hash.digest('hex') }
}
