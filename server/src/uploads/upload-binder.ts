import type { FastifyBaseLogger } from 'fastify'
import { ErrorCode, RpcError, type UploadPlaceholder } from '@formcall/spec'
import { uploadKey } from '../bind/bind-placeholders.js'
import type { CallUploads } from '../bind/call-binder.js'
import { UploadedFile } from '../bind/uploaded-file.js'
import { declaredTypeRefusal, headRefusal, paramLimitError, SNIFF_BYTES, type ParamRule } from '../bind/file-gate.js'
import { openFinishedUpload, UPLOAD_ID, type OpenedUpload } from './open-finished-upload.js'
import { UploadFileSource } from './upload-file-source.js'
import type { UploadTokens } from './upload-tokens.js'

/** What an {@link UploadBinder} checks uploads against, and deletes them from. */
export interface UploadStore {
  readonly directory: string
  readonly expireAfter: number
  readonly tokens: UploadTokens
  /** Deletes an upload's bytes and record; resolves whether or not it was still there. */
  remove (id: string): Promise<void>
}

/** How a call's uploads are bound. */
export interface UploadBinderOptions {
  /** Uploads one call may bind (`limits.files`). */
  maxUploads: number
  /** Delete the uploads of a call that succeeded. */
  deleteAfterCall: boolean
  /** The request's logger, for faults of the store. */
  log: FastifyBaseLogger
}

/**
 * The `$upload` placeholders of one call, in the server's thread. Binding is synchronous (it runs inside
 * `bindPlaceholders`) and checks what needs no disk: the id's form and the token, so a forged token costs no file
 * access. {@link open} then checks each upload on disk and opens it; the call's method starts only after it resolved.
 * In worker mode the opened uploads' bytes go down the call's port like a part's (their file objects are among the
 * call's files, under `$upload:<id>`), and the worker's binder finds them by the same key.
 *
 * @example
 * ```ts
 * const uploads = new UploadBinder(store, { maxUploads: 100, deleteAfterCall: false, log })
 * const { args, files } = bindPlaceholders(call.args, new CallBinder(session, uploads))
 * await uploads.open()          // throws UPLOAD_NOT_FOUND, UPLOAD_EXPIRED, UPLOAD_INCOMPLETE, ...
 * // ... run the method with args ...
 * await uploads.settle({ succeeded: true, download: false })
 * ```
 */
export class UploadBinder implements CallUploads {
  readonly #store: UploadStore
  readonly #options: UploadBinderOptions
  readonly #bound = new Map<string, UploadFileSource>()
  readonly #rules = new Map<string, ParamRule>()

  constructor (store: UploadStore, options: UploadBinderOptions) {
    this.#store = store
    this.#options = options
  }

  upload (placeholder: UploadPlaceholder): UploadedFile {
    const { id, token } = placeholder
    if (this.#bound.has(id)) {
      throw new RpcError(ErrorCode.INVALID_PARAMS,
        `upload "${id.slice(0, 200)}" is bound twice in one call; its bytes are delivered once, so pass it to one parameter`,
        { upload: id.slice(0, 200) })
    }
    const { maxUploads } = this.#options
    if (this.#bound.size >= maxUploads) {
      throw new RpcError(ErrorCode.LIMIT_EXCEEDED,
        `the call binds more than ${maxUploads} uploads (limits.files); bind fewer per call`, { limit: 'files', max: maxUploads })
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

  constrain (id: string, rule: ParamRule): void {
    this.#rules.set(id, rule)
  }

  /** Checks and opens every bound upload; rejects with the first failure in binding order, leaving nothing open. */
  async open (): Promise<void> {
    if (this.#bound.size === 0) return
    const entries = [...this.#bound]
    const results = await Promise.allSettled(entries.map(async ([id]) => {
      const upload = await openFinishedUpload(this.#store.directory, id, { expireAfter: this.#store.expireAfter })
      const rule = this.#rules.get(id)
      const refusal = rule === undefined ? undefined : await uploadRefusal(rule, upload)
      if (refusal === undefined) return upload
      await upload.handle.close().catch(() => {})
      throw refusal
    }))
    const failure = results.find((result) => result.status === 'rejected')
    if (failure !== undefined) {
      await Promise.all(results.map(async (result) => { if (result.status === 'fulfilled') await result.value.handle.close().catch(() => {}) }))
      if (failure.reason instanceof RpcError) throw failure.reason
      this.#options.log.error({ err: failure.reason }, 'formcall: an upload could not be opened')
      throw new RpcError(ErrorCode.INTERNAL_ERROR, 'an upload the call binds could not be read on the server; see its log')
    }
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') (entries[index] as [string, UploadFileSource])[1].attach(result.value)
    })
  }

  /** The call is over (see {@link CallUploads.settle} and {@link UploadFileSource.release}); never rejects. */
  async settle (outcome: { succeeded: boolean, download: boolean }): Promise<void> {
    if (this.#bound.size === 0) return
    await Promise.all([...this.#bound.values()].map(async (source) => await source.release(outcome.download)))
    if (!this.#options.deleteAfterCall || !outcome.succeeded) return
    await Promise.all([...this.#bound.keys()].map(async (id) => await this.#store.remove(id).catch((err: unknown) => {
      this.#options.log.warn({ err, upload: id }, 'formcall: a consumed upload could not be deleted; the expiry sweep will')
    })))
  }
}

/** What a finished upload's declared type, size and first bytes earn under its param's rule (PROTOCOL.md 12.3). */
async function uploadRefusal (param: ParamRule, upload: OpenedUpload): Promise<RpcError | undefined> {
  const key = uploadKey(upload.id)
  const { maxSize } = param.rule
  if (maxSize !== undefined && upload.size > maxSize) return paramLimitError(param, key, 'maxSize', maxSize)
  const declared = declaredTypeRefusal(param, key, upload.type)
  if (declared !== undefined) return declared
  const head = Buffer.alloc(Math.min(upload.size, SNIFF_BYTES))
  if (head.length > 0) await upload.handle.read(head, 0, head.length, 0)
  return await headRefusal(param, key, head)
}
