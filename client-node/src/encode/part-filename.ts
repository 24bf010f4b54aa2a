import { basename } from 'node:path'

/**
 * Filename of a part whose argument has none (a Buffer, an unnamed Blob, a stream); browsers send the same.
 *
 * @example
 * ```ts
 * partFilename(name ?? DEFAULT_FILENAME)
 * ```
 */
export const DEFAULT_FILENAME = 'blob'

/**
 * Makes a filename safe to quote in a part's `Content-Disposition` header.
 *
 * The multipart encoder writes `filename="<name>"` as is, so a quote or a line break in a name would end the
 * header early and let the rest of the name forge headers. This escapes them as browsers do (WHATWG HTML, "multipart
 * form-data encoding"): `"` → `%22`, CR → `%0D`, LF → `%0A`. Other characters, UTF-8 included, are sent raw, again as
 * browsers do and as multipart parsers expect.
 *
 * @example
 * ```ts
 * partFilename('say "hi".txt') // 'say %22hi%22.txt'
 * partFilename('')             // 'blob'
 * ```
 */
export function partFilename (name: string): string {
  const escaped = name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
  return escaped === '' ? DEFAULT_FILENAME : escaped
}

/**
 * The filename for a stream that carries a `path` (an `fs.ReadStream`): its base name.
 *
 * @example
 * ```ts
 * filenameOfPath('/srv/in/a.csv') // 'a.csv'
 * filenameOfPath(undefined)       // undefined
 * ```
 */
export function filenameOfPath (path: unknown): string | undefined {
  if (typeof path === 'string' && path !== '') return basename(path)
  if (Buffer.isBuffer(path) && path.length > 0) return basename(path.toString())
  return undefined
}
