import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { download, RpcError, type UploadedFile, type UploadedFiles } from '@formcall/server'

/** SHA-256 and size of a file, computed while it streams in. */
async function digestOf (file: UploadedFile): Promise<{ name: string | null, type: string, size: number, sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of file) {
    hash.update(chunk)
    size += chunk.length
  }
  return { name: file.filename, type: file.type, size, sha256: hash.digest('hex') }
}

/**
 * The demo methods served by `pnpm start`.
 */
export default {
  /** Returns what it is given. */
  echo: (value: unknown) => value,

  math: {
    add: (a: number, b: number) => a + b,
    divide: (a: number, b: number) => {
      if (b === 0) throw new RpcError(4000, 'cannot divide by zero; pass a non-zero divisor', { a, b })
      return a / b
    }
  },

  files: {
    /** Hashes one file as it arrives. */
    digest: async (file: UploadedFile) => await digestOf(file),
    /** Hashes every file sent under one name (`{"$files": "docs"}`, an `<input type=file multiple>`). */
    digestAll: async (files: UploadedFiles) => {
      const out = []
      for await (const file of files) out.push(await digestOf(file))
      return out
    },
    /** A generated file of `size` bytes, streamed back as a download. */
    generate: (size = 1024, filename = 'generated.bin') => {
      const total = Math.min(Math.max(0, Math.floor(size)), 1024 ** 3)
      const block = Buffer.alloc(64 * 1024, 'formcall ')
      let sent = 0
      const body = Readable.from((function * () {
        while (sent < total) {
          const n = Math.min(block.length, total - sent)
          sent += n
          yield block.subarray(0, n)
        }
      })())
      return download(body, { filename, type: 'application/octet-stream', size: total })
    }
  }
}
