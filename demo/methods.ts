import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { z } from 'zod'
import {
  callContext,
  defineMethod,
  download,
  file,
  files,
  RpcError,
  UploadedFile
} from '@formcall/server/methods'

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

/** The media types the photo card accepts: what browsers show as an `<img>`. */
const PHOTO_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp']
/** The most bytes a photo may have; the server stops reading at the byte after it. */
const PHOTO_MAX_BYTES = 2_000_000
/** The longest photo title. */
const TITLE_MAX = 40
/** The longest note the no-JavaScript form takes. */
const NOTE_MAX = 200

/**
 * The demo methods served by `pnpm start`. Each declares its params with zod and formcall's `file()` / `files()`, so
 * a call that does not fit is refused with `-32602` and the schema's issues before the method runs.
 */
export default {
  echo: defineMethod({ params: [z.unknown()], summary: 'Returns what it is given.' }, (value) => value),

  math: {
    add: defineMethod({ params: [z.number(), z.number()], result: z.number(), summary: 'Adds two numbers.' },
      (a, b) => a + b),
    divide: defineMethod({
      params: [z.number(), z.number()],
      summary: 'Divides a by b.',
      description: 'Dividing by zero fails with the application error 4000, whose data holds a and b.'
    }, (a, b) => {
      if (b === 0) throw new RpcError(4000, 'cannot divide by zero; pass a non-zero divisor', { a, b })
      return a / b
    })
  },

  files: {
    digest: defineMethod({ params: [file()], summary: 'Hashes one file as it arrives.' }, async (upload) => await digestOf(upload)),
    digestAll: defineMethod({
      params: [files()],
      summary: 'Hashes every file sent under one name.',
      description: 'The files of one part name (`{"$files": "docs"}`, as `curl -F docs=@a -F docs=@b` sends them).'
    }, async (docs) => {
      const out = []
      for await (const doc of docs) out.push(await digestOf(doc))
      return out
    }),
    /**
     * Hashes a list of files sent as one argument (a browser's FileList or File[]), in the order they were sent.
     *
     * In order, not concurrently: parts arrive one after another, so reading them in that order streams every byte
     * from the socket into the hash. Reading a later file while an earlier one is unfinished would make the server
     * move the earlier one to a temp file first.
     *
     * When the client cancels, the file being read fails; the method notes it in the server log and gives up.
     */
    digestMany: defineMethod({
      params: [files()],
      summary: 'Hashes a list of files (a FileList or File[]) in the order they were sent.'
    }, async (uploads) => {
      const { signal, log } = callContext()
      const out: FileDigest[] = []
      let current: UploadedFile | undefined
      try {
        for await (const upload of uploads) {
          current = upload
          out.push(await digestOf(upload))
        }
      } catch (err) {
        // A file whose part never arrived has no filename to log (reading it would throw).
        const file = current === undefined ? undefined : current.arrived ? current.filename : current.field
        if (signal.aborted) log.info({ file, digested: out.length }, 'files.digestMany: the client cancelled the upload')
        throw err
      }
      return out
    }),
    /**
     * What the demo's no-JavaScript page (no-js.html) posts: a plain HTML form whose hidden `json` input names only
     * this method, so its fields are the named params. The server runs it once the whole form has arrived (the files
     * are spooled meanwhile) and shows the result as a page, since a browser without scripts has nothing else to show
     * it with.
     */
    digestForm: defineMethod({
      params: {
        title: z.string().trim().min(1, 'give the upload a title').max(TITLE_MAX, `a title has at most ${TITLE_MAX} characters`),
        note: z.string().max(NOTE_MAX, `a note has at most ${NOTE_MAX} characters`),
        files: files({ maxCount: 20 })
      },
      summary: 'Hashes the files of a plain HTML form, with its title and note.'
    }, async ({ title, note, files }) => {
      const digests: FileDigest[] = []
      for await (const upload of files) digests.push(await digestOf(upload))
      return { title, note, files: digests }
    }),
    report: defineMethod({ params: [], summary: 'A small CSV report, sent back as a download.' },
      () => download(Buffer.from('a,b\n1,2\n'), { filename: 'report.csv', type: 'text/csv' })),
    generate: defineMethod({
      params: [
        z.number().int().min(0).max(1024 ** 3).default(1024),
        z.string().min(1).max(255).default('generated.bin')
      ],
      summary: 'A generated file of `size` bytes (at most 1 GiB), streamed back as a download.'
    }, (size, filename) => {
      const block = Buffer.alloc(64 * 1024, 'formcall ')
      let sent = 0
      const body = Readable.from((function * () {
        while (sent < size) {
          const n = Math.min(block.length, size - sent)
          sent += n
          yield block.subarray(0, n)
        }
      })())
      return download(body, { filename, type: 'application/octet-stream', size })
    })
  },

  photos: {
    /**
     * Takes a title and one photo (the browser client's `fromForm(form)`); nothing is stored, the answer says what
     * arrived. The title is checked before the method starts, the photo's size and media type by the server while its
     * bytes arrive: a title over 40 characters answers `-32602` with the issue at `["title"]`, a photo over 2 MB
     * `-32004`, a file that is not a PNG, JPEG, GIF or WebP `-32020`.
     */
    add: defineMethod({
      params: {
        title: z.string().trim().min(1, 'give the photo a title').max(TITLE_MAX, `a title has at most ${TITLE_MAX} characters`),
        photo: file({ maxSize: PHOTO_MAX_BYTES, accept: PHOTO_TYPES })
      },
      summary: 'Checks a titled photo against its schema and says what arrived.'
    }, async ({ title, photo }) => ({ title, photo: await digestOf(photo) }))
  },

  profile: {
    /**
     * Takes a whole form as one named argument (the browser client's `fromForm(form)`): a display name and any number
     * of photos. Nothing is stored; the answer says what arrived.
     */
    update: defineMethod({
      params: {
        name: z.string().trim().min(1, 'fill in the name field'),
        photos: files({ optional: true })
      },
      summary: 'Takes a display name and any number of photos; says what arrived.'
    }, async ({ name, photos }) => {
      const received: FileDigest[] = []
      for await (const photo of photos ?? []) received.push(await digestOf(photo))
      return { name, photos: received }
    })
  }
}
