import { readdir, statfs } from 'node:fs/promises'
import type { FastifyRequest } from 'fastify'
import { ErrorCode, RpcError } from '@formcall/spec'
import { UPLOAD_ID } from './open-finished-upload.js'

/** What a `beforeUpload` hook sees of a request to the upload endpoint. */
export interface UploadRequestInfo {
  /** `POST` (a creation), `PATCH` (bytes), `HEAD` (the offset) or `DELETE` (termination). */
  readonly method: 'POST' | 'PATCH' | 'HEAD' | 'DELETE'
  /** The upload the request is about; undefined for a creation. */
  readonly uploadId: string | undefined
  /** The HTTP request's headers (lower-cased names). */
  readonly headers: FastifyRequest['headers']
  /** The client's IP address. */
  readonly remoteAddress: string
}

/**
 * Runs before every request to the upload endpoint (but `OPTIONS`); throw an RpcError to refuse it, answered with
 * that error's HTTP status and a JSON error envelope. The place for authentication and per-client quotas.
 *
 * @example
 * ```ts
 * const beforeUpload: BeforeUploadHook = ({ headers }) => {
 *   if (headers.authorization !== `Bearer ${token}`) throw new RpcError(ErrorCode.UNAUTHORIZED, 'send a bearer token')
 * }
 * ```
 */
export type BeforeUploadHook = (info: UploadRequestInfo) => void | Promise<void>

/** What {@link UploadAdmission} enforces. */
export interface AdmissionRules {
  readonly directory: string
  /** Uploads the store may hold at once, finished or not. */
  readonly maxUploads: number
  /** Bytes of the store's file system that creations must leave free, counting their declared lengths. */
  readonly minFreeSpace: number
  readonly beforeUpload: BeforeUploadHook | undefined
}

/**
 * Decides which requests the upload endpoint takes: the `beforeUpload` hook for every request, and for creations the
 * store's bounds, so that a client cannot fill the server's disk with uploads (each within `maxSize`) until they
 * expire. The count is read from the store's directory at each creation, so it holds for instances sharing it (give or
 * take creations that race); the free space is the file system's, less the lengths the new upload declares.
 *
 * @example
 * ```ts
 * const refusal = await admission.refusal(request, { method: 'POST', uploadId: undefined })
 * if (refusal !== undefined) return sendError(reply, null, refusal)
 * ```
 */
export class UploadAdmission {
  readonly #rules: AdmissionRules

  constructor (rules: AdmissionRules) {
    this.#rules = rules
  }

  /** Why `request` is refused, or undefined when it may go on to the tus server. */
  async refusal (request: FastifyRequest, info: Pick<UploadRequestInfo, 'method' | 'uploadId'>): Promise<RpcError | undefined> {
    try {
      await this.#rules.beforeUpload?.({ ...info, headers: request.headers, remoteAddress: request.ip })
      if (info.method === 'POST') await this.#checkRoom(request)
      return undefined
    } catch (err) {
      if (err instanceof RpcError) return err
      request.log.error({ err }, 'formcall: the beforeUpload hook failed')
      return new RpcError(ErrorCode.INTERNAL_ERROR, 'the upload could not be checked; see the server\'s log')
    }
  }

  async #checkRoom (request: FastifyRequest): Promise<void> {
    const { directory, maxUploads, minFreeSpace } = this.#rules
    const names = await readdir(directory)
    const held = names.filter((name) => name.endsWith('.json') && UPLOAD_ID.test(name.slice(0, -5))).length
    if (held >= maxUploads) {
      throw new RpcError(ErrorCode.OVERLOADED, `the server holds ${held} uploads, its most (uploads.maxUploads); ` +
        'retry once some have been bound or expired', { limit: 'maxUploads', max: maxUploads })
    }
    const declared = Number(request.headers['upload-length'] ?? 0)
    const space = await statfs(directory)
    const free = space.bavail * space.bsize
    if (Number.isFinite(declared) && free - Math.max(0, declared) < minFreeSpace) {
      throw new RpcError(ErrorCode.OVERLOADED, `the server has no room for an upload of ${declared} bytes now ` +
        '(uploads.minFreeSpace); retry later or upload a smaller file', { limit: 'minFreeSpace', min: minFreeSpace })
    }
  }
}
