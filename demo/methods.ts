import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  download,
  ErrorCode,
  RpcError,
  UploadedFile,
  callContext,
  type UploadedFiles
} from '@formcall/server'

/** What the demo tells about one received file. */
export interface FileDigest {
  name: string | null
  type: string
  size: number
  sha256: string
}

/** SHA-256 and size of a file, computed while it streams in. */
async function digestOf (file: UploadedFile): Promise<FileDigest> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of file) {
    hash.update(chunk)
    size += chunk.length
  }
  return { name: file.filename, type: file.type, size, sha256: hash.digest('hex') }
}

/** Throws INVALID_PARAMS unless `value` is a list of files, so a wrong call gets a message, not a crash. */
function assertFileList (value: unknown, what: string): asserts value is UploadedFile[] {
  if (!Array.isArray(value) || !value.every((file) => file instanceof UploadedFile)) {
    throw new RpcError(ErrorCode.INVALID_PARAMS, `${what} must be a list of files (an <input type=file multiple>'s files, or File[])`)
  }
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
    /** Hashes every file sent under one name (`{"$files": "docs"}`, as `curl -F docs=@a -F docs=@b` sends them). */
    digestAll: async (files: UploadedFiles) => {
      const out = []
      for await (const file of files) out.push(await digestOf(file))
      return out
    },
    /**
     * Hashes a list of files sent as one argument (a browser's FileList or File[]), in the order they were sent.
     *
     * In order, not concurrently: parts arrive one after another, so reading them in that order streams every byte
     * from the socket into the hash. Reading a later file while an earlier one is unfinished would make the server
     * move the earlier one to a temp file first.
     *
     * When the client cancels, the file being read fails; the method notes it in the server log and gives up.
     */
    digestMany: async (files: UploadedFile[]) => {
      const { signal, log } = callContext()
      assertFileList(files, 'files')
      const out: FileDigest[] = []
      for (const file of files) {
        try {
          out.push(await digestOf(file))
        } catch (err) {
          if (signal.aborted) {
            // A file whose part never arrived has no filename to log (reading it would throw).
            log.info({ file: file.arrived ? file.filename : file.field, digested: out.length, of: files.length }, 'files.digestMany: the client cancelled the upload')
          }
          throw err
        }
      }
      return out
    },
    /** A small CSV report, sent back as a download. */
    report: () => download(Buffer.from('a,b\n1,2\n'), { filename: 'report.csv', type: 'text/csv' }),
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
  },

  profile: {
    /**
     * Takes a whole form as one named argument (the browser client's `fromForm(form)`): a display name and any number
     * of photos. Nothing is stored; the answer says what arrived.
     */
    update: async ({ name, photos = [] }: { name: string, photos?: UploadedFile[] }) => {
      if (typeof name !== 'string' || name.trim() === '') {
        throw new RpcError(ErrorCode.INVALID_PARAMS, 'name must be a non-empty text; fill in the name field')
      }
      assertFileList(photos, 'photos')
      const received: FileDigest[] = []
      for (const photo of photos) received.push(await digestOf(photo))
      return { name: name.trim(), photos: received }
    }
  }
}
