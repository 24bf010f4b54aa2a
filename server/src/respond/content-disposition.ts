/**
 * `attachment` with an ASCII `filename` fallback and the exact name as RFC 5987 `filename*`, so every client gets a
 * safe name and modern ones the real one.
 */
export function contentDisposition (filename: string | undefined): string {
  if (filename === undefined || filename === '') return 'attachment'
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`
}
