import { ErrorCode, RpcError, type UploadPlaceholder } from '@formcall/spec'
import { uploadKey, type FileBinder } from '../bind/bind-placeholders.js'
import { UploadedFile, type UploadedFiles } from '../bind/uploaded-file.js'
import { openFinishedUpload, UPLOAD_ID } from './open-finished-upload.js'
import { UploadFileSource } from './upload-file-source.js'
import type { UploadTokens } from './upload-tokens.js'

/** What an {@link UploadBinder} checks uploads against. */
export interface UploadStoreView {
  readonly directory: string
  readonly expireAfter: number
  readonly tokens: UploadTokens
}

/**
 * The binder of one call's `$upload` placeholders, in the server's thread. Binding is synchronous (it runs inside
 * `bindPlaceholders`) and checks what needs no disk: the id's form and the token, so a forged token costs no file
 * access. {@link open} then checks each upload on disk and opens it; the call's method starts only after it resolved.
 *
 * @example
 * ```ts
 * const binder = new UploadBinder(store, { maxUploads: 100 })
 * const { args, files } = bindPlaceholders(execution.args, binder)
 * await binder.open()          // throws UPLOAD_NOT_FOUND, UPLOAD_EXPIRED, UPLOAD_INCOMPLETE, ...
 * // ... run the method with args ...
 * await binder.release(false)
 * ```
 */
export class UploadBinder implements FileBinder {
  readonly #store: UploadStoreView
  readonly #maxUploads: number
  readonly #bound = new Map<string, UploadFileSource>()

  constructor (store: UploadStoreView, options: { maxUploads: number }) {
    this.#store = store
    this.#maxUploads = options.maxUploads
  }

  /** The ids of the uploads bound, in binding order. */
  get ids (): string[] { return [...this.#bound.keys()] }

  upload (placeholder: UploadPlaceholder): UploadedFile {
    const { id, token } = placeholder
    if (this.#bound.has(id)) {
      throw new RpcError(ErrorCode.INVALID_PARAMS,
        `upload "${id.slice(0, 200)}" is bound twice in one call; its bytes are delivered once, so pass it to one parameter`,
        { upload: id.slice(0, 200) })
    }
    if (this.#bound.size >= this.#maxUploads) {
      throw new RpcError(ErrorCode.LIMIT_EXCEEDED,
        `the call binds more than ${this.#maxUploads} uploads (limits.files); bind fewer per call`, { limit: 'files', max: this.#maxUploads })
    }
    if (!UPLOAD_ID.test(id)) {
      throw new RpcError(ErrorCode.UPLOAD_NOT_FOUND, `no upload has the id "${id.slice(0, 200)}"; upload the file again`, { upload: id.slice(0, 200) })
    }
    if (!this.#store.tokens.verify(id, token)) {
      throw new RpcError(ErrorCode.UPLOAD_FORBIDDEN, token === undefined
        ? `the placeholder of upload "${id}" has no "token"; send {"$upload": id, "token": <the Upload-Token header of the upload's creation>}`
        : `the token of upload "${id}" is not the one issued when it was created; send the Upload-Token header of its creation`,
      { upload: id })
    }
    const key = uploadKey(id)
    const source = new UploadFileSource(key)
    this.#bound.set(id, source)
    return new UploadedFile(key, source)
  }

  /** Checks and opens every bound upload; rejects with the first failure in binding order, leaving nothing open. */
  async open (): Promise<void> {
    const entries = [...this.#bound]
    const results = await Promise.allSettled(entries.map(async ([id]) =>
      await openFinishedUpload(this.#store.directory, id, { expireAfter: this.#store.expireAfter })))
    const failure = results.find((result) => result.status === 'rejected')
    if (failure !== undefined) {
      await Promise.all(results.map(async (result) => { if (result.status === 'fulfilled') await result.value.handle.close().catch(() => {}) }))
      throw failure.reason
    }
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') (entries[index] as [string, UploadFileSource])[1].attach(result.value)
    })
  }

  /** The call is over: see {@link UploadFileSource.release}. */
  async release (keepStreams: boolean): Promise<void> {
    await Promise.all([...this.#bound.values()].map(async (source) => await source.release(keepStreams)))
  }

  file (part: string): UploadedFile { throw unexpectedPart(part) }
  files (part: string): UploadedFiles { throw unexpectedPart(part) }
}

/** Parts are bound before uploads, so this binder never meets a part placeholder; one would be a missing file. */
function unexpectedPart (part: string): RpcError {
  return new RpcError(ErrorCode.MISSING_FILE, `the call refers to part "${part.slice(0, 100)}", which was not sent`, { part })
}
