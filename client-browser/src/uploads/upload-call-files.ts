import { parsePlaceholder, uploadPlaceholder, UPLOADS_SUBPATH } from '@formcall/spec'
import type { FoundFile } from '@formcall/spec/client'
import { resumableOptionsOf } from '../resumable.js'
import type { ResolvedResumable } from '../resumable.js'
import { uploadFile } from './tus-upload.js'
import type { FinishedUpload } from './tus-upload.js'

/**
 * A call's params and files after its resumable files were uploaded.
 *
 * @example
 * ```ts
 * const { params, files, uploads, bytes }: UploadedCall = await uploadCallFiles(collected.params, collected.files, context)
 * ```
 */
export interface UploadedCall {
  /** Params with each uploaded file's `{"$file": …}` placeholder replaced by `{"$upload": url, "token": …}`. */
  params: unknown
  /** The files still to send in the call's multipart body. */
  files: FoundFile<Blob>[]
  /** The uploads the call binds, to forget once the server has answered the call. */
  uploads: FinishedUpload[]
  /** Bytes of the uploaded files. */
  bytes: number
}

/**
 * What uploading a call's files needs, besides the files.
 *
 * @example
 * ```ts
 * const context: CallUploadContext = { callUrl: '/rpc', settings: options.resumable, headers: options.headers,
 *   withCredentials: false, signal, terminateOnAbort: () => true, onProgress: undefined }
 * ```
 */
export interface CallUploadContext {
  /** The call endpoint's URL (absolute, or relative to the page). */
  callUrl: string
  settings: ResolvedResumable
  headers: ReadonlyMap<string, string | string[]>
  withCredentials: boolean
  signal: AbortSignal
  terminateOnAbort: () => boolean
  /** Bytes of all resumable files uploaded so far, over their total. */
  onProgress: ((progress: { loaded: number, total: number }) => void) | undefined
}

/**
 * Uploads, one after the other, the files of a call that go resumably (wrapped in `resumable()`, or above
 * `resumable.above`) and puts their upload placeholders in the params; the other files stay for the call's body.
 *
 * @example
 * ```ts
 * const { params, files, uploads } = await uploadCallFiles(collected.params, collected.files, context)
 * ```
 */
export async function uploadCallFiles (params: unknown, found: FoundFile<Blob>[], context: CallUploadContext): Promise<UploadedCall> {
  const chosen = found.flatMap((item) => {
    const options = resumableOptionsOf(item.file, context.settings)
    return options === undefined ? [] : [{ item, fingerprint: options.fingerprint }]
  })
  if (chosen.length === 0) return { params, files: found, uploads: [], bytes: 0 }

  const endpoint = uploadsEndpoint(context.callUrl)
  const total = chosen.reduce((sum, { item }) => sum + item.file.size, 0)
  const report = context.onProgress
  let done = 0
  const bound = new Map<string, { $upload: string, token: string }>()
  const uploads: FinishedUpload[] = []
  // Headers the encoding sets: a caller's content type would replace the tus one of PATCH.
  const headers = new Map([...context.headers].filter(([name]) => name !== 'content-type'))
  for (const { item, fingerprint } of chosen) {
    const upload = await uploadFile(item.file, {
      endpoint,
      settings: context.settings,
      fingerprint,
      headers,
      withCredentials: context.withCredentials,
      signal: context.signal,
      terminateOnAbort: context.terminateOnAbort,
      onProgress: (loaded) => { report?.({ loaded: done + loaded, total }) }
    })
    done += item.file.size
    uploads.push(upload)
    bound.set(item.part, uploadPlaceholder(upload.url, upload.token))
  }
  report?.({ loaded: total, total })
  const parts = new Set(bound.keys())
  return { params: replacePlaceholders(params, bound), files: found.filter((item) => !parts.has(item.part)), uploads, bytes: total }
}

/**
 * The tus endpoint of a call endpoint: its path with `/uploads/` appended, query and fragment dropped
 * (PROTOCOL.md 11.1).
 *
 * @example
 * ```ts
 * uploadsEndpoint('https://example.com/rpc') // 'https://example.com/rpc/uploads/'
 * ```
 */
export function uploadsEndpoint (callUrl: string): string {
  const url = new URL(callUrl, globalThis.location?.href)
  url.search = ''
  url.hash = ''
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${UPLOADS_SUBPATH}/`
  return url.href
}

/**
 * Swaps the placeholders of uploaded parts. The params are the copy the files walk made (plain arrays and
 * null-prototype objects), where a `{"$file": …}` object can only be one the walk put there; values left for
 * `JSON.stringify` (those with `toJSON`) are not entered, as the walk did not enter them.
 */
function replacePlaceholders (value: unknown, bound: ReadonlyMap<string, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value
  const placeholder = parsePlaceholder(value)
  if (placeholder !== undefined && placeholder.kind === 'one') return bound.get(placeholder.part) ?? value
  if (Array.isArray(value)) return value.map((item) => replacePlaceholders(item, bound))
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value
  const copy: Record<string, unknown> = Object.create(null)
  for (const key of Object.keys(value)) copy[key] = replacePlaceholders((value as Record<string, unknown>)[key], bound)
  return copy
}
