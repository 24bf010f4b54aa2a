import { filePlaceholder } from '@formcall/spec'

/**
 * One file of a call, to be sent as a multipart part.
 *
 * @example
 * ```ts
 * const part: FilePart = { name: 'f0', file: avatar, filename: 'avatar.png' }
 * ```
 */
export interface FilePart {
  /** The part name its placeholder refers to: `f0`, `f1`, … in the order the files were found. */
  name: string
  file: Blob
  /** The File's name, or `blob` for a Blob (what a browser's FormData would send for it). */
  filename: string
}

/**
 * Finds every File, Blob and FileList in `params`, at any depth of arrays and plain objects, and returns a copy of
 * `params` where each file is replaced by `{"$file": "fN"}` (a FileList by an array of them), plus the files in
 * part order. The caller's objects are never changed.
 *
 * Only arrays and plain objects are walked: other objects (Date, class instances) reach `JSON.stringify` as they
 * are, so they serialise the way they would in any JSON call.
 *
 * @example
 * ```ts
 * const { params, parts } = extractFiles([{ title: 'a', file: someFile }])
 * // params: [{ title: 'a', file: { $file: 'f0' } }], parts: [{ name: 'f0', file: someFile, filename: 'a.png' }]
 * ```
 */
export function extractFiles (params: unknown): { params: unknown; parts: FilePart[] } {
  const parts: FilePart[] = []
  // Objects on the path from the root to the value being walked: meeting one again is a cycle, which would
  // otherwise recurse until the stack overflows instead of failing with a message.
  const ancestors = new Set<object>()

  const addPart = (file: Blob): { $file: string } => {
    const name = `f${parts.length}`
    parts.push({ name, file, filename: filenameOf(file) })
    return filePlaceholder(name)
  }

  const walk = (value: unknown, where: string): unknown => {
    if (typeof value !== 'object' || value === null) return value
    if (isBlob(value)) return addPart(value)
    if (isFileList(value)) return Array.from(value, addPart)
    const isArray = Array.isArray(value)
    if (!isArray && !isPlainObject(value)) return value
    if (ancestors.has(value)) throw new TypeError(`params cannot be sent as JSON: ${where} refers back to itself`)
    ancestors.add(value)
    const copy = isArray
      ? value.map((item, index) => walk(item, `${where}[${index}]`))
      : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, `${where}.${key}`)]))
    ancestors.delete(value)
    return copy
  }

  return { params: walk(params, 'params'), parts }
}

// Tags rather than `instanceof`, so that files from another realm (an iframe's input) are recognised too.
function isBlob (value: object): value is Blob {
  const tag = Object.prototype.toString.call(value)
  return tag === '[object Blob]' || tag === '[object File]'
}

function isFileList (value: object): value is FileList {
  return Object.prototype.toString.call(value) === '[object FileList]'
}

function isPlainObject (value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function filenameOf (file: Blob): string {
  const name = (file as Partial<File>).name
  return typeof name === 'string' && name !== '' ? name : 'blob'
}
