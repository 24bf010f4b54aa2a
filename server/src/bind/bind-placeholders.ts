import { ErrorCode, RpcError, parsePlaceholder, parseUploadPlaceholder, type UploadPlaceholder } from '@formcall/spec'
import type { UploadedFile, UploadedFiles } from './uploaded-file.js'
import type { ParamRule } from './file-gate.js'

/** Where part placeholders get their file objects from: a request's parts. */
export interface PartBinder {
  file (part: string): UploadedFile
  files (part: string): UploadedFiles
  /** The part is a file param's: hold its bytes to the param's rule (called before the part is bound). */
  constrain? (part: string, rule: ParamRule): void
}

/** Where placeholders get their file objects from: parts and finished uploads. */
export interface FileBinder extends PartBinder {
  /**
   * The file object of a finished resumable upload (`{"$upload": id, "token": …}`, PROTOCOL.md section 11). It goes
   * into {@link BoundArgs.files} under {@link uploadKey}.
   */
  upload (placeholder: UploadPlaceholder): UploadedFile
}

/**
 * The name a bound upload goes by among a call's file objects (`Execution.files`, a worker's file list): the prefix
 * keeps it apart from the call's part names, and both threads derive it from the placeholder alone, so a worker finds
 * the upload the main thread bound for the same placeholder. It is also the file object's `field`.
 *
 * @example
 * ```ts
 * uploadKey('9f86d081884c7d65') // '$upload:9f86d081884c7d65'
 * ```
 */
export function uploadKey (id: string): string {
  return `$upload:${id}`
}

/** Params with their placeholders bound: what the method is called with, and which parts it got. */
export interface BoundArgs {
  /** The method's arguments: the params, with a file object in place of each placeholder. */
  readonly args: readonly unknown[]
  /** The file objects bound, by part name, in the order the placeholders were met. Empty for a call without files. */
  readonly files: ReadonlyMap<string, UploadedFile | UploadedFiles>
}

const MAX_DEPTH = 256
const NO_FILES: ReadonlyMap<string, UploadedFile | UploadedFiles> = new Map()

/**
 * Binds every file placeholder in `params`, at any depth, to the file object `binder` gives for its part name
 * (PROTOCOL.md section 3). The params are left as they are: a value that holds a placeholder is copied along the path
 * to it, and a call without placeholders gets its params back as its args, with nothing copied. Both modes bind with
 * this one function: the server against the request's parts, a worker against its port to them, so a value a client
 * sends becomes a file object only where it is a placeholder. With no binder (a worker call sent without files) a
 * part placeholder is a missing file and an upload placeholder an unknown upload.
 *
 * @example
 * ```ts
 * const { args } = bindPlaceholders([{ title: 'a', file: { $file: 'f0' } }], session)
 * // args[0].file is session.file('f0'); the params still hold { $file: 'f0' }
 * ```
 */
export function bindPlaceholders (params: readonly unknown[], binder: FileBinder | undefined): BoundArgs {
  let files: Map<string, UploadedFile | UploadedFiles> | undefined
  const bound = (key: string, file: UploadedFile | UploadedFiles): UploadedFile | UploadedFiles => {
    files ??= new Map()
    // Only a part named like an upload's key (`$upload:<id>`) can meet an upload here; parts referenced twice are
    // refused by their binder.
    if (files.has(key)) {
      throw new RpcError(ErrorCode.INVALID_PARAMS, `part "${key.slice(0, 200)}" is named like the upload of that id, ` +
        'which the call binds too; rename the part', { part: key.slice(0, 200) })
    }
    files.set(key, file)
    return file
  }
  const visit = (value: unknown, depth: number): unknown => {
    const placeholder = parsePlaceholder(value)
    if (placeholder !== undefined) {
      if (binder === undefined) throw partsMissing(placeholder.part)
      return bound(placeholder.part, placeholder.kind === 'one' ? binder.file(placeholder.part) : binder.files(placeholder.part))
    }
    if (typeof value !== 'object' || value === null) return value
    const upload = parseUploadPlaceholder(value)
    if (upload !== undefined) {
      if (binder === undefined) throw noUploads(upload.id)
      return bound(uploadKey(upload.id), binder.upload(upload))
    }
    if (depth > MAX_DEPTH) {
      throw new RpcError(ErrorCode.INVALID_PARAMS, `params are nested deeper than ${MAX_DEPTH} levels; flatten them`)
    }
    return Array.isArray(value) ? visitArray(value, depth) : visitRecord(value as Record<string, unknown>, depth)
  }
  const visitArray = (array: readonly unknown[], depth: number): readonly unknown[] => {
    let copy: unknown[] | undefined
    for (let i = 0; i < array.length; i++) {
      const bound = visit(array[i], depth + 1)
      if (bound !== array[i]) (copy ??= array.slice())[i] = bound
    }
    return copy ?? array
  }
  const visitRecord = (record: Record<string, unknown>, depth: number): Record<string, unknown> => {
    let copy: Record<string, unknown> | undefined
    for (const key of Object.keys(record)) {
      const bound = visit(record[key], depth + 1)
      if (bound === record[key]) continue
      copy ??= { ...record }
      // defineProperty, not assignment: a key named "__proto__" must stay a plain own property.
      Object.defineProperty(copy, key, { value: bound, writable: true, enumerable: true, configurable: true })
    }
    return copy ?? record
  }
  const args = visitArray(params, -1)
  return { args, files: files ?? NO_FILES }
}

/**
 * The answer to an upload placeholder where no upload can be bound: a server without resumable uploads. The form is
 * still a placeholder (PROTOCOL.md section 3.1), never data.
 */
export function noUploads (id: string): RpcError {
  return new RpcError(ErrorCode.UPLOAD_NOT_FOUND, `the call binds upload "${id.slice(0, 200)}", but this server takes ` +
    'no resumable uploads; send the file as a multipart part', { upload: id.slice(0, 200) })
}

/** The answer to a part placeholder in a call sent without parts. */
export function partsMissing (part: string): RpcError {
  return new RpcError(ErrorCode.MISSING_FILE,
    `the call refers to part "${part}" but was sent without parts; send files as multipart/form-data`, { part })
}
