import { ErrorCode, RpcError, parsePlaceholder } from '@formcall/spec'
import type { UploadedFile, UploadedFiles } from './uploaded-file.js'

/** Where placeholders get their file objects from. */
export interface FileBinder {
  file (part: string): UploadedFile
  files (part: string): UploadedFiles
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
 * sends becomes a file object only where it is a placeholder. With no binder (a call sent without parts) any
 * placeholder is a missing file.
 *
 * @example
 * ```ts
 * const { args } = bindPlaceholders([{ title: 'a', file: { $file: 'f0' } }], session)
 * // args[0].file is session.file('f0'); the params still hold { $file: 'f0' }
 * ```
 */
export function bindPlaceholders (params: readonly unknown[], binder: FileBinder | undefined): BoundArgs {
  let files: Map<string, UploadedFile | UploadedFiles> | undefined
  const visit = (value: unknown, depth: number): unknown => {
    const placeholder = parsePlaceholder(value)
    if (placeholder !== undefined) {
      if (binder === undefined) {
        throw new RpcError(ErrorCode.MISSING_FILE,
          `the call refers to part "${placeholder.part}" but was sent without parts; send files as multipart/form-data`,
          { part: placeholder.part })
      }
      const file = placeholder.kind === 'one' ? binder.file(placeholder.part) : binder.files(placeholder.part)
      ;(files ??= new Map()).set(placeholder.part, file)
      return file
    }
    if (typeof value !== 'object' || value === null) return value
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
