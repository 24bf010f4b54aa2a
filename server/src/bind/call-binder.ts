import type { UploadPlaceholder } from '@formcall/spec'
import { noUploads, partsMissing, type FileBinder, type PartBinder } from './bind-placeholders.js'
import type { UploadedFile, UploadedFiles } from './uploaded-file.js'
import type { ParamRule } from './file-gate.js'
import type { RuleTarget } from '../shape/method-shape.js'

/**
 * The resumable uploads one call binds (PROTOCOL.md section 11): checked as they are met, opened before the method
 * starts, let go when the call is over.
 */
export interface CallUploads {
  /** The file object of an upload placeholder; throws an RpcError for a wrong token or id (no disk access yet). */
  upload (placeholder: UploadPlaceholder): UploadedFile
  /** The upload `id` is a file param's: it must fit the param's rule when it is opened. */
  constrain? (id: string, rule: ParamRule): void
  /** Checks every bound upload on disk and opens it; rejects with the first failure, leaving nothing open. */
  open (): Promise<void>
  /**
   * The call is over: files no stream took are closed, streams still open are ended unless the call answered with a
   * download (which may be reading them), and with `deleteAfterCall` the uploads of a call that succeeded go.
   */
  settle (outcome: { succeeded: boolean, download: boolean }): Promise<void>
}

/**
 * The binder of a call in the server's thread: parts from the request (none for a call sent without parts) and
 * uploads from the server's upload store (none when uploads are off). One pass of `bindPlaceholders` binds both.
 *
 * @example
 * ```ts
 * const { args, files } = bindPlaceholders(call.args, new CallBinder(session, uploads))
 * ```
 */
export class CallBinder implements FileBinder {
  readonly #parts: PartBinder | undefined
  readonly #uploads: CallUploads | undefined

  constructor (parts: PartBinder | undefined, uploads: CallUploads | undefined) {
    this.#parts = parts
    this.#uploads = uploads
  }

  file (part: string): UploadedFile { return this.#partsFor(part).file(part) }

  files (part: string): UploadedFiles { return this.#partsFor(part).files(part) }

  upload (placeholder: UploadPlaceholder): UploadedFile {
    if (this.#uploads === undefined) throw noUploads(placeholder.id)
    return this.#uploads.upload(placeholder)
  }

  /** Holds the file a rule targets to the rule; a target the call cannot bind fails when it is bound. */
  hold (target: RuleTarget, rule: ParamRule): void {
    if ('part' in target) this.#parts?.constrain?.(target.part, rule)
    else this.#uploads?.constrain?.(target.upload, rule)
  }

  #partsFor (part: string): PartBinder {
    if (this.#parts !== undefined) return this.#parts
    throw partsMissing(part)
  }
}
