import type { Agent } from 'node:http'
import type { ReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web'
import type { RemoteApi } from '@formcall/spec'
import type { LocalFile } from './file-from-path.js'
import type { DownloadedFile } from './decode/downloaded-file.js'

/**
 * Anything the client can send as a file argument. Streams are streamed, never buffered; a stream passed to a call
 * belongs to that call, which reads it to the end or destroys it.
 *
 * @example
 * ```ts
 * const files: FileLike[] = [createReadStream('a.txt'), fileFromPath('b.txt'), Buffer.from('c'), new Blob(['d'])]
 * ```
 */
export type FileLike =
  | ReadStream
  | Readable
  | ReadableStream<Uint8Array>
  | NodeWebReadableStream<Uint8Array>
  | Blob
  | File
  | Buffer
  | Uint8Array
  | LocalFile

/**
 * Upload progress of one call.
 *
 * @example
 * ```ts
 * const onUploadProgress = ({ loaded, total }: UploadProgress) =>
 *   console.log(total === null ? `${loaded} bytes` : `${Math.round(100 * loaded / total)}%`)
 * ```
 */
export interface UploadProgress {
  /** Bytes of the request body handed to the operating system so far. */
  loaded: number
  /** The body's size, or `null` while it is unknown (a stream without a known length). */
  total: number | null
}

/**
 * Options for one call; the same options set on the client are its defaults.
 *
 * @example
 * ```ts
 * const options: CallOptions = { timeout: 30_000, headers: { authorization: `Bearer ${token}` } }
 * ```
 */
export interface CallOptions {
  /** Extra request headers. Merged with the client's (per-call values win); names are case-insensitive. */
  headers?: Record<string, string | string[]>
  /**
   * Milliseconds the whole call may take, upload included; `0` or absent means no limit. For a download it runs
   * until the response headers arrive; bound the body read with `signal`.
   */
  timeout?: number
  /** Aborts the call (and a download's body). A client signal and a call signal both apply. */
  signal?: AbortSignal
  /**
   * Called as the request body is written, and once more with `loaded === total` when all of it was written (for
   * a body of unknown length, that last event carries the final size as `total`).
   */
  onUploadProgress?: (progress: UploadProgress) => void
  /** The `http.Agent` / `https.Agent` for the connection; defaults to a shared keep-alive agent. */
  agent?: Agent
}

/**
 * Options of `createClient`: defaults for every call.
 *
 * @example
 * ```ts
 * const api = createClient<typeof methods>('http://localhost:8080/rpc', { timeout: 60_000 })
 * ```
 */
export type ClientOptions = CallOptions

/**
 * Params of `$call`: positional (array) or named (object).
 *
 * @example
 * ```ts
 * const positional: CallParams = ['a', 2]
 * const named: CallParams = { title: 'a', limit: 2 }
 * ```
 */
export type CallParams = unknown[] | Record<string, unknown>

/**
 * The members every client has besides the remote methods. Their names start with `$` so that they cannot collide
 * with a method's name.
 *
 * @example
 * ```ts
 * await api.$call('files.store', { title: 'a', file })
 * await api.$with({ timeout: 5_000 }).echo('hi')
 * ```
 */
export interface ClientControls<M> {
  /**
   * Calls a method by its dotted name. Reaches names the proxy cannot (`then`, `toJSON`, `$…`, names built at run
   * time) and sends named params.
   */
  $call: <T = unknown>(method: string, params?: CallParams, options?: CallOptions) => Promise<T>
  /** A client whose calls use these options on top of this client's. */
  $with: (options: CallOptions) => Client<M>
}

/**
 * A client without a methods type: any dotted path is callable and resolves to `unknown`.
 *
 * @example
 * ```ts
 * const api: UntypedApi = createClient('http://localhost:8080/rpc')
 * const result = await api.reports.monthly(2026, 11)
 * ```
 */
export interface UntypedApi {
  [name: string]: UntypedApi & ((...args: unknown[]) => Promise<unknown>)
}

/**
 * What `createClient<typeof methods>()` returns: the methods as promise-returning remote calls (file parameters
 * accept any {@link FileLike}, downloads resolve to {@link DownloadedFile}) plus `$call` and `$with`.
 *
 * @example
 * ```ts
 * import type * as methods from './methods.js'
 * let api: Client<typeof methods>
 * ```
 */
export type Client<M> = (unknown extends M ? UntypedApi : RemoteApi<M, FileLike, DownloadedFile>) & ClientControls<M>
