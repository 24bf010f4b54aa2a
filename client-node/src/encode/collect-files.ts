import { filePlaceholder } from '@formcall/spec'
import { classifyFileLike, type FileValue } from './classify-file-like.js'

/** A file argument found in params. */
export interface FoundFile {
  /** The multipart part that carries it: `f0`, `f1`, … in order of first appearance. */
  part: string
  /** Where it first appears, for error messages: `params[0].file`. */
  where: string
  /** The argument, sorted by kind. */
  value: FileValue
}

/** Params ready for JSON, and the files taken out of them. */
export interface CollectedFiles {
  params: unknown
  files: FoundFile[]
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/**
 * Walks params to any depth, takes out every file argument and puts a `{"$file": "f0"}` placeholder where it was.
 * The same object appearing twice becomes one part referenced twice, so it is read and sent once.
 *
 * The params are copied, never changed: the caller's objects stay as they were. Values with a `toJSON` method (a
 * `Date`) are left for `JSON.stringify`; files inside them are not looked for, as JSON would not reach them either.
 *
 * @example
 * ```ts
 * const buf = Buffer.from('x')
 * collectFiles([{ a: buf, b: [buf] }])
 * // { params: [{ a: { $file: 'f0' }, b: [{ $file: 'f0' }] }], files: [{ part: 'f0', where: 'params[0].a', … }] }
 * ```
 */
export function collectFiles (params: unknown): CollectedFiles {
  const files: FoundFile[] = []
  const parts = new Map<object, string>()
  const ancestors = new Set<object>()

  const walk = (value: unknown, where: string): unknown => {
    const file = classifyFileLike(value)
    if (file !== undefined) {
      let part = parts.get(value as object)
      if (part === undefined) {
        part = `f${files.length}`
        parts.set(value as object, part)
        files.push({ part, where, value: file })
      }
      return filePlaceholder(part)
    }
    if (typeof value !== 'object' || value === null) return value
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value
    if (ancestors.has(value)) {
      throw new TypeError(`params contain a circular reference at ${where}; params travel as JSON, which cannot ` +
        'hold cycles: pass a copy without the back-reference')
    }
    ancestors.add(value)
    try {
      if (Array.isArray(value)) return value.map((item, i) => walk(item, `${where}[${i}]`))
      // A null prototype keeps a key named "__proto__" (e.g. from JSON.parse) an ordinary own key.
      const copy: Record<string, unknown> = Object.create(null)
      for (const key of Object.keys(value)) {
        copy[key] = walk((value as Record<string, unknown>)[key], where + (IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`))
      }
      return copy
    } finally {
      ancestors.delete(value)
    }
  }

  return { params: walk(params, 'params'), files }
}
