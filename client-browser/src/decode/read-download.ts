import type { HttpAnswer } from '../send/index.js'
import { filenameFromContentDisposition } from '@formcall/spec'

/**
 * A file a method returned: what a call resolves to when the server answers with a download instead of a JSON
 * envelope.
 *
 * @example
 * ```ts
 * const report: DownloadedBlob = await api.reports.export('2026-11')
 * report.filename // 'report-2026-11.csv'
 * saveDownload(report)
 * ```
 */
export interface DownloadedBlob {
  /** The bytes, held by the browser (large downloads may live on disk, not in the JS heap). */
  blob: Blob
  /** From `Content-Disposition` (`filename*` preferred), or `null` when the server gave none. */
  filename: string | null
  /** The response's `Content-Type`, `application/octet-stream` when absent. */
  type: string
  /** Bytes received. */
  size: number
}

/**
 * Reads a download answer (one carrying `X-Formcall-Download`).
 *
 * @example
 * ```ts
 * const download = readDownload(answer)
 * ```
 */
export function readDownload (answer: HttpAnswer): DownloadedBlob {
  return {
    blob: answer.body,
    filename: filenameFromContentDisposition(answer.header('content-disposition')),
    type: answer.header('content-type') ?? 'application/octet-stream',
    size: answer.body.size
  }
}
