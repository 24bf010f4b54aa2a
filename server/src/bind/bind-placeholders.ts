import { ErrorCode, RpcError, parsePlaceholder } from '@formcall/spec'
import type { UploadedFile, UploadedFiles } from './uploaded-file.js'

/** Where placeholders get their file objects from. */
export interface FileBinder {
  file (part: string): UploadedFile
  files (part: string): UploadedFiles
}

const MAX_DEPTH = 256

/**
 * Replaces every file placeholder in `args`, at any depth, with the file object `binder` gives for its part name
 * (PROTOCOL.md section 3). Works in place on freshly parsed JSON; returns how many placeholders it bound.
 * With no binder (a call sent without parts) any placeholder is a missing file.
 *
 * @example
 * ```ts
 * const args = [{ title: 'a', file: { $file: 'f0' } }]
 * bindPlaceholders(args, session) // args[0].file is now session.file('f0')
 * ```
 */
export function bindPlaceholders (args: unknown[], binder: FileBinder | undefined): number {
  let bound = 0
  const visit = (value: unknown, depth: number): unknown => {
    const placeholder = parsePlaceholder(value)
    if (placeholder !== undefined) {
      if (binder === undefined) {
        throw new RpcError(ErrorCode.MISSING_FILE,
          `the call refers to part "${placeholder.part}" but was sent without parts; send files as multipart/form-data`,
          { part: placeholder.part })
      }
      bound++
      return placeholder.kind === 'one' ? binder.file(placeholder.part) : binder.files(placeholder.part)
    }
    if (typeof value !== 'object' || value === null) return value
    if (depth > MAX_DEPTH) {
      throw new RpcError(ErrorCode.INVALID_PARAMS, `params are nested deeper than ${MAX_DEPTH} levels; flatten them`)
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = visit(value[i], depth + 1)
    } else {
      const record = value as Record<string, unknown>
      for (const key of Object.keys(record)) record[key] = visit(record[key], depth + 1)
    }
    return value
  }
  for (let i = 0; i < args.length; i++) args[i] = visit(args[i], 0)
  return bound
}
