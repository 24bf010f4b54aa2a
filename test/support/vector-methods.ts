import { digestFile } from './bytes.js'
import { Readable } from 'node:stream'
import {
  download,
  ErrorCode,
  RpcError,
  UploadedFile,
  UploadedFiles,
  callContext,
  type BeforeCallHook
} from '@formcall/server'

/** What the file methods answer for one file: its headers and whole content. */
export interface FileReport {
  field: string
  filename: string | null
  type: string
  size: number
  text: string
}

async function report (file: UploadedFile): Promise<FileReport> {
  const bytes = await file.bytes()
  return { field: file.field, filename: file.filename, type: file.type, size: bytes.length, text: bytes.toString('utf8') }
}

/** Replaces every file object in a value, at any depth, by its report (read in document order). */
async function resolveFiles (value: unknown): Promise<unknown> {
  if (value instanceof UploadedFile) return await report(value)
  if (value instanceof UploadedFiles) {
    const out: FileReport[] = []
    for await (const file of value) out.push(await report(file))
    return out
  }
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (const item of value) out.push(await resolveFiles(item))
    return out
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = await resolveFiles(item)
    return out
  }
  return value
}

/**
 * The methods `spec/vectors/` calls (spec/vectors/README.md describes each in protocol terms). Deterministic: every
 * answer follows from the request alone.
 */
export const vectorMethods = {
  /** Answers with its one positional argument. */
  echo: (value: unknown) => value,
  /** Answers with every argument it received: shows what the server passed. */
  args: (...args: unknown[]) => args,
  /** Returns `undefined`. */
  nothing: () => undefined,
  /** Answers with the context's method name and call id. */
  whoami: () => ({ method: callContext().method, id: callContext().id }),

  math: {
    add: (a: number, b: number) => a + b,
    /** Named params: one object argument. */
    sum: ({ a, b }: { a: number, b: number }) => a + b
  },

  files: {
    /** Reads one file whole. */
    read: async (file: UploadedFile) => await report(file),
    /** Reads every file of a `$files` list, in order. */
    readAll: async (files: UploadedFiles) => {
      const out: FileReport[] = []
      for await (const file of files) out.push(await report(file))
      return out
    },
    /** Returns its argument with every file (at any depth) replaced by its report. */
    resolve: async (value: unknown) => await resolveFiles(value),
    /** Size and SHA-256 of one file. */
    digest: digestFile,
    /** A label and two files, read in order (krpc's positional form with two uploads). */
    pair: async (label: string, first: UploadedFile, second: UploadedFile) =>
      ({ label, first: await report(first), second: await report(second) }),
    /** Answers without reading its file: the server must drain it. */
    ignore: (file: UploadedFile) => ({ field: file.field })
  },

  fail: {
    invalidParams: (_n: number) => { throw new RpcError(ErrorCode.INVALID_PARAMS, 'expected a positive number; pass n > 0', { param: 0 }) },
    application: (..._params: unknown[]) => { throw new RpcError(4001, 'no such account; check the account id', { account: 'a1' }) },
    forbidden: (..._params: unknown[]) => { throw new RpcError(ErrorCode.FORBIDDEN, 'only admins may do this') },
    plain: (..._params: unknown[]) => { throw new Error('the disk is full') }
  },

  results: {
    cycle: () => {
      const node: Record<string, unknown> = { name: 'loop' }
      node.self = node
      return node
    },
    bigint: () => ({ big: 2n ** 64n }),
    fn: () => () => 'a function',
    /** A Buffer: a download with a known size. */
    bytes: () => Buffer.from('raw bytes\n'),
    /** A Node readable: a download of unknown size (chunked). */
    stream: () => Readable.from([Buffer.from('chunk one,'), Buffer.from('chunk two')]),
    /** A named download with a UTF-8 filename. */
    named: () => download(Buffer.from('a,b\n1,2\n'), { filename: 'résumé 2024.csv', type: 'text/csv' })
  }
}

/** Before-call hooks a vector can select by name with `"options": { "beforeCall": "<name>" }`. */
export const vectorHooks: Record<string, BeforeCallHook> = {
  /** Accepts `"pmhparams": {"token": "secret"}` or `Authorization: Bearer secret`; refuses the rest with UNAUTHORIZED. */
  requireToken: ({ hookParams, context }) => {
    const token = (hookParams as { token?: unknown } | null | undefined)?.token
    if (token === 'secret' || context.headers.authorization === 'Bearer secret') return
    throw new RpcError(ErrorCode.UNAUTHORIZED, 'send pmhparams {"token": ...} or an Authorization header')
  }
}

/** The default export, so a worker pool can import this module as a methods module. */
export default vectorMethods
