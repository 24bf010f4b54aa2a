/**
 * The three ways params point at multipart file parts.
 *
 * - `{"$file": "<part name>"}`: the first part with that name.
 * - `{"$files": "<part name>"}`: every part with that name, in arrival order (an `<input type=file multiple>`).
 * - `"__file__:<id>"`: krpc's form; the part is named exactly that string.
 *
 * An object is a placeholder only when `$file`/`$files` is its one and only key and its value is a non-empty string.
 */

/** Key of the single-file placeholder object. */
export const FILE_KEY = '$file'
/** Key of the every-part-with-this-name placeholder object. */
export const FILES_KEY = '$files'
/** Prefix of krpc's string placeholders. */
export const KRPC_FILE_PREFIX = '__file__:'

/** A placeholder found in params. */
export interface Placeholder {
  /** `one`: a single file; `many`: every part with that name. */
  kind: 'one' | 'many'
  /** The multipart part name it refers to. */
  part: string
}

/**
 * Recognises a placeholder value, or returns `undefined` for any other value.
 *
 * @example
 * ```ts
 * parsePlaceholder({ $file: 'avatar' })      // { kind: 'one', part: 'avatar' }
 * parsePlaceholder('__file__:1700-abc')      // { kind: 'one', part: '__file__:1700-abc' }
 * parsePlaceholder({ $file: 'a', other: 1 }) // undefined
 * ```
 */
export function parsePlaceholder (value: unknown): Placeholder | undefined {
  if (typeof value === 'string') {
    return value.startsWith(KRPC_FILE_PREFIX) && value.length > KRPC_FILE_PREFIX.length
      ? { kind: 'one', part: value }
      : undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const keys = Object.keys(value)
  if (keys.length !== 1) return undefined
  const key = keys[0]
  const part = (value as Record<string, unknown>)[key as string]
  if (typeof part !== 'string' || part === '') return undefined
  if (key === FILE_KEY) return { kind: 'one', part }
  if (key === FILES_KEY) return { kind: 'many', part }
  return undefined
}

/**
 * The placeholder object a client puts where a file was.
 *
 * @example
 * ```ts
 * filePlaceholder('f0') // { $file: 'f0' }
 * ```
 */
export function filePlaceholder (part: string): { $file: string } {
  return { [FILE_KEY]: part } as { $file: string }
}
