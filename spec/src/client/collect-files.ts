import { filePlaceholder, parsePlaceholder } from '../placeholders.js'

/**
 * What a client's file-like test says about one params value: a file to send (`{ file }`), a list that stands for
 * several files (`{ list }`: a browser's FileList, walked like an array), or `undefined` for a value that travels as
 * JSON.
 *
 * @example
 * ```ts
 * const classify = (value: unknown): Classified<Blob> => value instanceof Blob ? { file: value } : undefined
 * ```
 */
export type Classified<F> = { file: F } | { list: readonly unknown[] } | undefined

/**
 * A file taken out of params.
 *
 * @example
 * ```ts
 * const found: FoundFile<Blob> = { part: 'f0', where: 'params[0].avatar', file: avatar }
 * ```
 */
export interface FoundFile<F> {
  /** The multipart part that carries it: `f0`, `f1`, … in order of first appearance. */
  part: string
  /** Where it first appears, for error messages: `params[0].file`. */
  where: string
  /** The file, as the client's test classified it. */
  file: F
}

/**
 * Params ready for JSON, and the files taken out of them.
 *
 * @example
 * ```ts
 * const { params, files }: CollectedFiles<Blob> = collectFiles([blob], classify)
 * ```
 */
export interface CollectedFiles<F> {
  params: unknown
  files: FoundFile<F>[]
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/**
 * Walks params to any depth, takes out every value `classify` calls a file and puts a `{"$file": "f0"}` placeholder
 * where it was. The same object appearing twice becomes one part referenced twice, so it is read and sent once.
 *
 * The params are copied, never changed: the caller's objects stay as they were. The walk reaches what
 * `JSON.stringify` would: arrays and the own enumerable properties of objects. Values with a `toJSON` method (a
 * `Date`) are left for `JSON.stringify`, and files inside them are not looked for, as JSON would not reach them
 * either. Throws a TypeError, before anything is sent, for a cycle and for data the server would take for a file
 * placeholder (PROTOCOL.md 3.1): a string starting with `__file__:`, an object whose one key is `$file` or `$files`.
 *
 * @example
 * ```ts
 * const bytes = new Blob(['x'])
 * collectFiles([{ a: bytes, b: [bytes] }], classify)
 * // { params: [{ a: { $file: 'f0' }, b: [{ $file: 'f0' }] }], files: [{ part: 'f0', where: 'params[0].a', file: bytes }] }
 * ```
 */
export function collectFiles<F> (params: unknown, classify: (value: object) => Classified<F>): CollectedFiles<F> {
  const files: FoundFile<F>[] = []
  const parts = new Map<object, string>()
  // Objects on the path from the root to the value being walked: meeting one again is a cycle, which would
  // otherwise recurse until the stack overflows instead of failing with a message.
  const ancestors = new Set<object>()

  const partFor = (value: object, file: F, where: string): { $file: string } => {
    let part = parts.get(value)
    if (part === undefined) {
      part = `f${files.length}`
      parts.set(value, part)
      files.push({ part, where, file })
    }
    return filePlaceholder(part)
  }

  const walk = (value: unknown, where: string): unknown => {
    if (typeof value === 'string') return refuseKrpcPlaceholder(value, where)
    if (typeof value !== 'object' || value === null) return value
    const classified = classify(value)
    if (classified !== undefined && 'file' in classified) return partFor(value, classified.file, where)
    const items = classified?.list ?? (Array.isArray(value) ? value as unknown[] : undefined)
    if (items === undefined && typeof (value as { toJSON?: unknown }).toJSON === 'function') return value
    if (items === undefined) refusePlaceholderObject(value, where)
    if (ancestors.has(value)) {
      throw new TypeError(`params contain a circular reference at ${where}; params travel as JSON, which cannot ` +
        'hold cycles: pass a copy without the back-reference')
    }
    ancestors.add(value)
    try {
      return items !== undefined ? items.map((item, i) => walk(item, `${where}[${i}]`)) : walkObject(value, where, walk)
    } finally {
      ancestors.delete(value)
    }
  }

  return { params: walk(params, 'params'), files }
}

/** Copies an object's own enumerable properties, each walked. */
function walkObject (value: object, where: string, walk: (value: unknown, where: string) => unknown): Record<string, unknown> {
  // A null prototype keeps a key named "__proto__" (e.g. from JSON.parse) an ordinary own key.
  const copy: Record<string, unknown> = Object.create(null)
  for (const key of Object.keys(value)) {
    copy[key] = walk((value as Record<string, unknown>)[key], where + (IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`))
  }
  return copy
}

/**
 * A string the server would read as krpc's file placeholder (`"__file__:<id>"`, PROTOCOL.md 3.1) cannot travel as
 * text: the server would look for a part of that name and hand the method a file, or fail with MISSING_FILE. The
 * clients never write such strings themselves (their placeholders are `{"$file": …}` objects), so any of them in
 * params is the caller's data, refused here rather than silently changed in meaning.
 */
function refuseKrpcPlaceholder (value: string, where: string): string {
  if (parsePlaceholder(value) === undefined) return value
  const shown = JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  throw new TypeError(`params cannot carry the string ${shown} at ${where}: a string starting with "__file__:" is read by ` +
    'the server as a krpc file placeholder (PROTOCOL.md section 3.1), not as text; to send a file, pass the file itself ' +
    'where the string is, and the client uploads it; to send this text, give it another prefix (and undo it in the method)')
}

/**
 * An object whose one key is `$file` or `$files` with a string value is a file placeholder to the server (PROTOCOL.md
 * 3.1), so as data it would bind another part of this call to a parameter, or fail with MISSING_FILE. The clients
 * write such objects only where they took a file out, after this check, so one met in the caller's params is refused.
 */
function refusePlaceholderObject (value: object, where: string): void {
  const placeholder = parsePlaceholder(value)
  if (placeholder === undefined) return
  const key = placeholder.kind === 'one' ? '$file' : '$files'
  throw new TypeError(`params cannot carry the object {"${key}": ${JSON.stringify(placeholder.part.slice(0, 60))}} at ${where}: ` +
    `an object whose only key is "${key}" is read by the server as a file placeholder (PROTOCOL.md section 3.1), not as ` +
    'data; to send a file, pass the file itself where the object is; to send this data, add another key or rename it')
}
