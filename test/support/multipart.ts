/** One part of a multipart body. */
export interface PartSpec {
  name: string
  /** Present for file parts (`filename=""` when empty string); absent for text fields. */
  filename?: string
  /** `Content-Type` of the part; omitted when absent. */
  type?: string
  content: string | Buffer
}

/**
 * The head of one part: boundary line, Content-Disposition, optional Content-Type, blank line.
 *
 * @example
 * ```ts
 * partHead('b', { name: 'f', filename: 'a.txt', type: 'text/plain', content: '' })
 * ```
 */
export function partHead (boundary: string, part: Omit<PartSpec, 'content'>): string {
  const disposition = `Content-Disposition: form-data; name="${part.name}"` +
    (part.filename === undefined ? '' : `; filename="${part.filename}"`)
  return `--${boundary}\r\n${disposition}\r\n` + (part.type === undefined ? '' : `Content-Type: ${part.type}\r\n`) + '\r\n'
}

/**
 * A complete `multipart/form-data` body, as browsers and curl frame it.
 *
 * @example
 * ```ts
 * const body = multipartBody('b', [{ name: 'json', content: '{"method":"echo","params":[1]}' }])
 * ```
 */
export function multipartBody (boundary: string, parts: readonly PartSpec[], options: { close?: boolean } = {}): Buffer {
  const pieces: Buffer[] = []
  for (const part of parts) {
    pieces.push(Buffer.from(partHead(boundary, part)), Buffer.from(part.content), Buffer.from('\r\n'))
  }
  if (options.close ?? true) pieces.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(pieces)
}

/** The `Content-Type` header of a multipart body with this boundary. */
export function multipartType (boundary: string): string {
  return `multipart/form-data; boundary=${boundary}`
}
