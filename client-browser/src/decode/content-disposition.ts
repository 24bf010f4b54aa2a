/**
 * The filename a `Content-Disposition` header names, or `null` when it names none.
 *
 * RFC 6266: `filename*` (RFC 5987, `charset'lang'percent-encoded`) wins over `filename`, because servers send both
 * and only `filename*` can carry non-ASCII names; a `filename*` that cannot be decoded falls back to `filename`.
 * The name is informational: it is not made safe for use as a path (browsers sanitise it when saving).
 *
 * @example
 * ```ts
 * filenameFromContentDisposition(`attachment; filename="r.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`)
 * // 'résumé.txt'
 * ```
 */
export function filenameFromContentDisposition (header: string | null): string | null {
  if (header === null) return null
  const params = dispositionParams(header)
  const extended = params.get('filename*')
  const decoded = extended === undefined ? null : decodeExtValue(extended)
  return decoded ?? params.get('filename') ?? null
}

// `; name=token` or `; name="quoted \"string\""`, after the disposition type. Names are case-insensitive.
const PARAM = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g

function dispositionParams (header: string): Map<string, string> {
  const params = new Map<string, string>()
  for (const match of header.matchAll(PARAM)) {
    const name = (match[1] as string).toLowerCase()
    const value = match[2] === undefined ? (match[3] as string).trim() : match[2].replace(/\\(.)/g, '$1')
    if (!params.has(name)) params.set(name, value)
  }
  return params
}

/** RFC 5987 ext-value: `UTF-8''%E2%82%AC%20rates` (ISO-8859-1 is the other charset it allows). */
function decodeExtValue (value: string): string | null {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value)
  if (match === null) return null
  const charset = (match[1] as string).toLowerCase()
  const encoded = match[2] as string
  try {
    if (charset === 'utf-8') return decodeURIComponent(encoded)
    if (charset === 'iso-8859-1') {
      return encoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    }
  } catch {
    // Malformed percent-encoding: fall back to the plain `filename`.
  }
  return null
}
