import { filePlaceholder, parsePlaceholder, uploadPlaceholder } from '@formcall/spec'

/** A finished resumable upload, as the call binds it. */
export interface BoundUpload {
  /** The upload's absolute URL, sent as `$upload`. */
  url: string
  /** Its `Upload-Token`, the capability that lets this call bind it. */
  token: string
}

/**
 * Puts each resumable upload's placeholder, `{"$upload": <url>, "token": <token>}`, where the params walk put the
 * file's `{"$file": "fN"}`, and renames the parts that are still sent so that they stay `f0`, `f1`, … in order.
 * Returns new params (the walked copy is not changed) and the new name of each remaining part.
 *
 * Only what the walk made is visited: arrays and plain objects. Values it left as they were (those with a `toJSON`,
 * such as a `Date`) are the caller's, and hold no placeholder of the walk.
 *
 * @example
 * ```ts
 * bindUploads([{ $file: 'f0' }, { $file: 'f1' }], new Map([['f0', { url, token }]]), ['f0', 'f1'])
 * // { params: [{ $upload: url, token }, { $file: 'f0' }], renamed: Map { 'f1' => 'f0' } }
 * ```
 */
export function bindUploads (params: unknown, uploads: ReadonlyMap<string, BoundUpload>, parts: readonly string[]): { params: unknown, renamed: ReadonlyMap<string, string> } {
  const renamed = new Map<string, string>()
  for (const part of parts) if (!uploads.has(part)) renamed.set(part, `f${renamed.size}`)

  const walk = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value
    if (Array.isArray(value)) return value.map(walk)
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value
    const placeholder = parsePlaceholder(value)
    if (placeholder?.kind === 'one') {
      const upload = uploads.get(placeholder.part)
      if (upload !== undefined) return uploadPlaceholder(upload.url, upload.token)
      return filePlaceholder(renamed.get(placeholder.part) ?? placeholder.part)
    }
    const copy: Record<string, unknown> = Object.create(null)
    for (const key of Object.keys(value)) copy[key] = walk((value as Record<string, unknown>)[key])
    return copy
  }
  return { params: walk(params), renamed }
}
