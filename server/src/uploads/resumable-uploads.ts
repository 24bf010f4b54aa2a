import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { ResolvedUploads } from '../options.js'
import type { OriginPolicy } from '../route/origin-policy.js'
import { ExpirySweep } from './expiry-sweep.js'
import { removeUpload } from './remove-upload.js'
import { mountTusEndpoint, type TusEndpoint } from './tus-endpoint.js'
import { openUploadDirectory } from './upload-directory.js'
import { UploadBinder, type UploadStore } from './upload-binder.js'
import type { UploadBindings } from '../dispatch/run-call.js'
import { UploadTokens } from './upload-tokens.js'
import { UploadAdmission } from './upload-admission.js'
import { uploadSecret } from './upload-secret.js'

/**
 * A server's resumable uploads: the checked directory they live in, the tokens that prove who created them, the
 * tus endpoint that receives them and the sweep that deletes them once expired. It is also the store a call's
 * `$upload` placeholders are checked against.
 *
 * @example
 * ```ts
 * const uploads = await ResumableUploads.open(settings.uploads, app.log)
 * await app.register(async (scope) => uploads.mount(scope, { path: '/rpc', origins }))
 * // at close:
 * await uploads.close()
 * ```
 */
export class ResumableUploads implements UploadStore, UploadBindings {
  readonly directory: string
  readonly expireAfter: number
  readonly tokens: UploadTokens
  readonly #settings: ResolvedUploads
  readonly #sweep: ExpirySweep
  readonly #log: FastifyBaseLogger
  #endpoint: TusEndpoint | undefined

  private constructor (settings: ResolvedUploads, directory: string, secret: Uint8Array, log: FastifyBaseLogger) {
    this.#settings = settings
    this.directory = directory
    this.expireAfter = settings.expireAfter
    this.tokens = new UploadTokens(secret)
    this.#log = log
    this.#sweep = new ExpirySweep({ directory, expireAfter: settings.expireAfter, interval: settings.cleanupInterval, log })
  }

  /**
   * Checks (or creates) the directory, reads (or makes) the token key unless `uploads.secret` gives one, and sweeps
   * expired uploads; fails the start on an unsafe directory or key file.
   */
  static async open (settings: ResolvedUploads, log: FastifyBaseLogger): Promise<ResumableUploads> {
    const directory = await openUploadDirectory(settings.directory)
    const uploads = new ResumableUploads(settings, directory, settings.secret ?? await uploadSecret(directory), log)
    await uploads.#sweep.start()
    return uploads
  }

  /** Mounts the tus endpoint at `<path>/uploads/` in `scope`. */
  mount (scope: FastifyInstance, options: { path: string, origins: OriginPolicy, pace: { window: number, minRate: number } }): void {
    this.#endpoint = mountTusEndpoint(scope, {
      path: options.path,
      directory: this.directory,
      maxSize: this.#settings.maxSize,
      expireAfter: this.expireAfter,
      tokens: this.tokens,
      admission: new UploadAdmission({
        directory: this.directory,
        maxUploads: this.#settings.maxUploads,
        minFreeSpace: this.#settings.minFreeSpace,
        beforeUpload: this.#settings.beforeUpload
      }),
      origins: options.origins,
      pace: options.pace,
      log: this.#log
    })
  }

  /** The binder of one call's `$upload` placeholders. */
  forCall (log: FastifyBaseLogger): UploadBinder {
    return new UploadBinder(this, { maxUploads: this.#settings.perCall, deleteAfterCall: this.#settings.deleteAfterCall, log })
  }

  async remove (id: string): Promise<void> {
    await removeUpload(this.directory, id)
  }

  /** Runs one sweep now (the timer runs them anyway). */
  async sweep (): Promise<void> { await this.#sweep.sweep() }

  /** Cuts the uploads in progress (see {@link TusEndpoint.cutTransfers}): for the start of a server's close. */
  cutTransfers (): void { this.#endpoint?.cutTransfers() }

  /** Stops the sweep; the uploads stay, to be resumed or bound after a restart. */
  async close (): Promise<void> { await this.#sweep.stop() }
}
