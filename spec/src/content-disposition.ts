/**
 * The `Content-Disposition` of a download: `attachment` with an ASCII `filename` fallback and the exact name as RFC 5987 `filename*`, so every client gets a
 * safe name and modern ones the real one.
 *
 * @example
 * ```ts
 * formatContentDisposition('résumé.pdf') // `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`
 * ```
 */
export function formatContentDisposition (filename: string | undefined): string {
  if (filename === undefined || filename === '') return 'attachment'
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

/**
 * The filename a `Content-Disposition` header suggests, reduced to a base name, or `null` when it names none.
 *
 * `filename*` (RFC 5987/8187, `UTF-8''%E2%82%AC.txt`) is preferred over `filename` (RFC 6266 §4.3): servers send
 * both, the plain one as an ASCII fallback. A raw UTF-8 `filename` (as some servers send) is recovered from the
 * Latin-1 string Node makes of header bytes. The result never contains a path: `../../etc/passwd` becomes `passwd`,
 * so saving under a directory with it stays inside that directory; control characters are dropped.
 *
 * @example
 * ```ts
 * filenameFromContentDisposition(`attachment; filename="EUR rates.csv"; filename*=UTF-8''%E2%82%AC%20rates.csv`) // '€ rates.csv'
 * filenameFromContentDisposition('attachment') // null
 * ```
 */
export function filenameFromContentDisposition (header: string | null | undefined): string | null {
  if (header === undefined || header === null) return null
  const params = parseParams(header)
  const extended = params.get('filename*')
  const decoded = extended === undefined ? undefined : decodeExtValue(extended)
  const name = decoded ?? (params.has('filename') ? recoverUtf8(params.get('filename') as string) : undefined)
  return name === undefined ? null : baseName(name)
}

/** `name=value` parameters after the disposition type; names lower-cased, quoted values unescaped. */
function parseParams (header: string): Map<string, string> {
  const params = new Map<string, string>()
  const pattern = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g
  for (const match of header.matchAll(pattern)) {
    const name = (match[1] as string).toLowerCase()
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] as string).trim()
    if (!params.has(name)) params.set(name, value)
  }
  return params
}

/** Decodes an RFC 8187 ext-value (`charset'language'percent-encoded`); `undefined` when malformed. */
function decodeExtValue (value: string): string | undefined {
  const match = /^([\w!#$%&+^`{}~-]+)'[^']*'(.*)$/.exec(value)
  if (match === null) return undefined
  const charset = (match[1] as string).toLowerCase()
  const encoded = match[2] as string
  try {
    if (charset === 'utf-8') return decodeURIComponent(encoded)
    if (charset === 'iso-8859-1') {
      return encoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    }
  } catch {
    return undefined
  }
  return undefined
}

/** Node reads header bytes as Latin-1; if they were UTF-8, decode them as such. */
function recoverUtf8 (value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(value, (c) => c.charCodeAt(0)))
  } catch {
    return value
  }
}

function baseName (name: string): string | null {
  const last = name.split(/[/\\]/).pop()?.replace(/[\u0000-\u001f\u007f]/g, '').trim() ?? ''
  return last === '' || last === '.' || last === '..' ? null : last
}
