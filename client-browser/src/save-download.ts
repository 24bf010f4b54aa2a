import type { DownloadedBlob } from './decode/index.js'

// How long the object URL outlives the click. The click only starts the download; revoking the URL at once can
// cancel it in some browsers (Firefox, older Safari), and a minute covers a slow "Save as" dialog.
const REVOKE_AFTER_MS = 60_000

/**
 * Has the browser save a downloaded file, as if the user had clicked a download link: an object URL for the Blob and
 * a click on an `<a download>`. Must run in a page (it needs `document`); browsers may require a recent user gesture.
 *
 * @example
 * ```ts
 * saveDownload(await api.reports.export('2026-11'))            // saved as the server's filename
 * saveDownload(await api.reports.export('2026-11'), 'nov.csv') // or under a name of your own
 * ```
 */
export function saveDownload (download: DownloadedBlob | Blob, filename?: string): void {
  const blob = download instanceof Blob ? download : download.blob
  const name = filename ?? (download instanceof Blob ? null : download.filename) ?? ''
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  // An empty download attribute lets the browser pick a name from the Blob's type.
  link.download = name
  link.rel = 'noopener'
  link.style.display = 'none'
  // In the document, because Firefox ignores clicks on detached links.
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => { URL.revokeObjectURL(url) }, REVOKE_AFTER_MS)
}
