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
  /**
   * Bytes handed to the operating system so far: of the request body, and first of the files the call uploads
   * resumably (for each, the highest offset sent so far). Never decreases: after a dropped connection the bytes the
   * server did not keep are sent again, and no event is emitted until the re-sent bytes pass the earlier mark.
   */
  loaded: number
  /**
   * The size of what the call sends, or `null` while it is unknown (a stream without a known length). A call with
   * resumable files counts their sizes from the first event and adds the request body's size once the body is
   * built, after the uploads (it names them): `total` grows once, by the size of the call's JSON and its other parts.
   */
  total: number | null
}

/**
 * How a call uploads files resumably (PROTOCOL.md section 11): through the tus 1.0 endpoint the server serves at
 * `<call url>/uploads/`, before the call, which then binds each one with `{"$upload": <url>, "token": <token>}` in
 * place of the file and carries none of its bytes. The file is read from disk as a stream, one PATCH of at most
 * `chunkSize` bytes at a time, so memory stays flat whatever its size; a dropped connection or a restarted server
 * is survived by asking the server for its offset (HEAD) and sending the rest. Only files on disk
 * (`fileFromPath`) can go resumably: other file arguments are sent as multipart parts. The server must enable
 * `uploads`; a server without them fails the call with a `TransportError` rather than receiving the file otherwise.
 *
 * @example
 * ```ts
 * const api = createClient<typeof methods>('http://localhost:8080/rpc', { resumable: { above: 64 * 2 ** 20 } })
 * await api.videos.publish({ title: 'talk', video: fileFromPath('./talk.mp4') }) // 2 GiB: resumable
 * ```
 */
export interface ResumableOptions {
  /**
   * Every `fileFromPath` file larger than this many bytes is uploaded resumably, unless made with
   * `{ resumable: false }`. Unset: only files made with `fileFromPath(path, { resumable: true })` are.
   */
  above?: number
  /**
   * Bytes of the file each PATCH request carries; default 64 MiB. `Infinity`: one PATCH sends the rest of the file.
   * Memory does not depend on it (each PATCH streams its range from disk); keep it below the request-body limit of
   * any proxy between client and server.
   */
  chunkSize?: number
  /**
   * Milliseconds to wait before each retry of a failed tus request (a connection error, a 5xx, a 409 offset
   * mismatch, a 423), in order; when they run out the call fails. The count starts over whenever an attempt got
   * bytes stored, so a link that keeps moving never runs out. Default: exponential backoff,
   * `[0, 500, 1000, 2000, 4000, 8000, 16000, 32000]` (about a minute without progress).
   */
  retryDelays?: readonly number[]
  /**
   * Opt-in: a JSON file where the URL and token of each unfinished upload are kept (tus-js-client's Node
   * `FileUrlStorage`), so that a process started again resumes an upload of the same file (same absolute path,
   * size and modification time, same endpoint) instead of starting over. The file holds upload tokens: keep it
   * private to the user. An entry is removed once a call that bound its upload has succeeded, or the upload was
   * terminated. Unset (the default): nothing is written, and uploads resume only within this process.
   */
  storePath?: string
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
  /**
   * How files are uploaded resumably through the server's tus endpoint before the call: see {@link ResumableOptions}.
   * Replaces, not merges with, an earlier setting; `false` puts the defaults back (no `above`: only files made with
   * `fileFromPath(path, { resumable: true })` go resumably).
   */
  resumable?: ResumableOptions | false
}

/**
 * Options of `createClient`: defaults for every call.
 *
 * @example
 * ```ts
 * const api = createClient<typeof methods>('http://localhost:8080/rpc', { timeout: 60_000, resumable: { above: 2 ** 26 } })
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
