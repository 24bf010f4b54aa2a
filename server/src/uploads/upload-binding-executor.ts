import { ErrorCode, RpcError } from '@formcall/spec'
import { bindPlaceholders } from '../bind/bind-placeholders.js'
import type { UploadedFile, UploadedFiles } from '../bind/uploaded-file.js'
import type { Execution, Executor } from '../dispatch/executor.js'
import type { Outcome } from '../dispatch/outcome.js'
import { UploadBinder, type UploadStoreView } from './upload-binder.js'

/** What the executor needs of the upload store besides checking uploads: deleting the ones a call consumed. */
export interface UploadStore extends UploadStoreView {
  /** Deletes an upload's bytes and record; resolves whether or not it was still there. */
  remove (id: string): Promise<void>
}

/**
 * Binds a call's `$upload` placeholders before its executor runs it, in either isolation mode: the call's params have
 * had their parts bound already, and this is the second pass of the same `bindPlaceholders` over them, with a binder
 * that binds uploads only. Every upload is checked (token, existence, expiry, every byte present) and opened before
 * the method starts; a call whose uploads do not all pass is answered with the first failure and never runs.
 *
 * The bound uploads join the call's file objects under keys of their own (`$upload:<id>`), so a worker executor hands
 * them down the call's port like parts, and the worker's binder finds them by the same key.
 *
 * @example
 * ```ts
 * const executor = new UploadBindingExecutor(new InlineExecutor(methods), store, { maxUploads: 100, deleteAfterCall: false })
 * ```
 */
export class UploadBindingExecutor implements Executor {
  readonly #inner: Executor
  readonly #store: UploadStore
  readonly #maxUploads: number
  readonly #deleteAfterCall: boolean

  constructor (inner: Executor, store: UploadStore, options: { maxUploads: number, deleteAfterCall: boolean }) {
    this.#inner = inner
    this.#store = store
    this.#maxUploads = options.maxUploads
    this.#deleteAfterCall = options.deleteAfterCall
  }

  async start (): Promise<void> { await this.#inner.start?.() }
  assertMethod (method: string): void { this.#inner.assertMethod(method) }
  async close (graceMs?: number): Promise<void> { await this.#inner.close(graceMs) }

  async run (execution: Execution): Promise<Outcome> {
    const binder = new UploadBinder(this.#store, { maxUploads: this.#maxUploads })
    const { args, files: uploads } = bindPlaceholders(execution.args, binder)
    if (uploads.size === 0) return await this.#inner.run(execution)
    let outcome: Outcome | undefined
    try {
      try {
        await binder.open()
      } catch (err) {
        if (err instanceof RpcError) throw err
        execution.context.log.error({ err }, 'formcall: an upload could not be opened')
        throw new RpcError(ErrorCode.INTERNAL_ERROR, 'an upload the call binds could not be read on the server; see its log')
      }
      const files = new Map<string, UploadedFile | UploadedFiles>(execution.files)
      for (const [key, file] of uploads) {
        // A part named like an upload's key would make the worker's lookup ambiguous; no client needs such a name.
        if (files.has(key)) {
          throw new RpcError(ErrorCode.INVALID_PARAMS, `a part is named "${key.slice(0, 200)}", which is reserved for the upload of that id; rename the part`,
            { part: key.slice(0, 200) })
        }
        files.set(key, file)
      }
      outcome = await this.#inner.run({ ...execution, args, files })
      if (this.#deleteAfterCall && outcome.kind !== 'error') {
        await Promise.all(binder.ids.map(async (id) => await this.#store.remove(id).catch((err: unknown) => {
          execution.context.log.warn({ err, upload: id }, 'formcall: a consumed upload could not be deleted; the expiry sweep will')
        })))
      }
      return outcome
    } finally {
      await binder.release(outcome?.kind === 'download')
    }
  }
}
