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

/** Key of the placeholder that binds a finished resumable upload (PROTOCOL.md section 11). */
export const UPLOAD_KEY = '$upload'
/** Key of the upload placeholder's capability token, the `Upload-Token` the server returned on creation. */
export const UPLOAD_TOKEN_KEY = 'token'
/** The response header that carries an upload's capability token when the upload is created. */
export const UPLOAD_TOKEN_HEADER = 'Upload-Token'
/** Where the tus endpoint is, below the call endpoint's path (`/rpc` → `/rpc/uploads/`). */
export const UPLOADS_SUBPATH = '/uploads'

/** An upload placeholder found in params. */
export interface UploadPlaceholder {
  /**
   * The upload's id: the `$upload` value itself, or the last segment of the path when the value is the upload's
   * URL (`https://host/rpc/uploads/<id>` or `/rpc/uploads/<id>`). Not checked here beyond that: the server decides
   * whether it names an upload.
   */
  id: string
  /** The `token` member as sent (a string when well formed; the server refuses anything else). */
  token: unknown
}

/**
 * Recognises an upload placeholder, `{"$upload": "<id or URL>", "token": "<token>"}`, or returns `undefined` for any
 * other value. An object is one when `$upload` is an own key with a non-empty string value and its only other key, if
 * any, is `token`: an object with more keys is plain data.
 *
 * @example
 * ```ts
 * parseUploadPlaceholder({ $upload: 'a1b2', token: 't' })                    // { id: 'a1b2', token: 't' }
 * parseUploadPlaceholder({ $upload: 'http://h/rpc/uploads/a1b2', token: 't' }) // { id: 'a1b2', token: 't' }
 * parseUploadPlaceholder({ $upload: 'a1b2', title: 'x' })                   // undefined
 * ```
 */
export function parseUploadPlaceholder (value: unknown): UploadPlaceholder | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, UPLOAD_KEY)) return undefined
  const record = value as Record<string, unknown>
  const ref = record[UPLOAD_KEY]
  if (typeof ref !== 'string' || ref === '') return undefined
  for (const key of Object.keys(record)) if (key !== UPLOAD_KEY && key !== UPLOAD_TOKEN_KEY) return undefined
  return { id: uploadIdOf(ref), token: record[UPLOAD_TOKEN_KEY] }
}

/** The id in an upload reference: the reference itself, or the last path segment of a URL or path (query and fragment dropped). */
function uploadIdOf (ref: string): string {
  if (!ref.includes('/')) return ref
  const path = ref.replace(/[?#].*$/s, '').replace(/\/+$/, '')
  return path.slice(path.lastIndexOf('/') + 1)
}

/**
 * The placeholder object a client puts where a file it uploaded resumably was.
 *
 * @example
 * ```ts
 * uploadPlaceholder('a1b2', token) // { $upload: 'a1b2', token }
 * ```
 */
export function uploadPlaceholder (idOrUrl: string, token: string): { $upload: string, token: string } {
  return { [UPLOAD_KEY]: idOrUrl, [UPLOAD_TOKEN_KEY]: token } as { $upload: string, token: string }
}
