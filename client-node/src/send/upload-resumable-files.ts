import type { Agent } from 'node:http'
import { UPLOADS_SUBPATH } from '@formcall/spec'
import type { BoundUpload, ResumableFile } from '../encode/index.js'
import type { ResolvedResumable } from '../resolve-options.js'
import type { CallProgress } from './call-progress.js'
import type { CallScope } from './call-scope.js'
import { tusUpload } from './tus-upload.js'

/** Where a call's resumable files go, and how. */
export interface ResumableTarget {
  /** The call endpoint; the tus endpoint is `<url>/uploads/`. */
  url: URL
  /** The caller's headers, names lower-cased. */
  headers: Record<string, string | string[]>
  agent: Agent
  options: ResolvedResumable
  /** Names the call in error messages. */
  label: string
}

/** A call's finished uploads, by the part name of the file each replaces. */
export interface ResumableUploads {
  readonly bound: ReadonlyMap<string, BoundUpload>
  /** Drops what was stored to resume them across processes; for once the call that bound them has succeeded. */
  forget: () => Promise<void>
}

/** Headers tus-js-client writes itself, or that frame a body: a caller's would contradict them. */
const TUS_OWN_HEADER = /^(content-type|content-length|transfer-encoding|tus-resumable|upload-.*|x-formcall-method)$/

/**
 * Uploads a call's resumable files one after the other through the server's tus endpoint (`<call url>/uploads/`),
 * before the call is sent, reporting their progress to `progress`. The call's scope bounds them: its abort or timeout
 * stops and terminates the upload under way and rejects with the scope's reason. Uploads already finished stay on
 * the server until they expire (the call that would have bound them was not made).
 *
 * @example
 * ```ts
 * const uploads = await uploadResumableFiles(files, { url, headers, agent, options: options.resumable, label }, progress, scope)
 * const body = await encodeCall(collected, uploads.bound, sources)
 * ```
 */
export async function uploadResumableFiles (files: readonly ResumableFile[], target: ResumableTarget, progress: CallProgress, scope: CallScope): Promise<ResumableUploads> {
  const endpoint = new URL(target.url.href)
  endpoint.search = ''
  endpoint.hash = ''
  endpoint.pathname = `${endpoint.pathname.replace(/\/+$/, '')}${UPLOADS_SUBPATH}/`
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(target.headers)) {
    // Node's request takes a list for a repeated header; tus-js-client's typings only say string.
    if (!TUS_OWN_HEADER.test(name)) headers[name] = value as string
  }
  const tusTarget = { endpoint, headers, agent: target.agent, ...target.options, label: target.label }

  const bound = new Map<string, BoundUpload>()
  const forgets: Array<() => Promise<void>> = []
  for (const [index, file] of files.entries()) {
    const upload = await tusUpload(file, tusTarget, (offset) => progress.file(index, offset), scope.signal)
    bound.set(file.part, { url: upload.url, token: upload.token })
    forgets.push(upload.forget)
  }
  return { bound, forget: async () => { await Promise.all(forgets.map(async (forget) => await forget())) } }
}
