import { tmpdir } from 'node:os'
import type { FastifyBaseLogger } from 'fastify'
import type { BeforeCallHook } from './dispatch/call-context.js'
import type { Executor } from './dispatch/executor.js'
import type { MethodsObject } from './dispatch/resolve-method.js'
import type { WorkerPoolOptions } from './dispatch/worker/worker-executor.js'
import type { BeforeUploadHook } from './uploads/upload-admission.js'
import { discoveryInfo, type DiscoverOptions } from './describe/discovery.js'
import type { OpenRpcInfo } from './describe/openrpc.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

/**
 * Every size and count the server enforces. Past any of them the call fails with `LIMIT_EXCEEDED` (HTTP 413) and
 * `data.limit` naming the limit.
 */
export interface Limits {
  /** Bytes of the call's JSON: the `json` part, a JSON or urlencoded body, a `?json=` query. Default 1 MiB. */
  callSize: number
  /** Bytes of each file part. Default 32 GiB: a file streams through, so its size costs no server memory. */
  fileSize: number
  /** File parts per request. Default 100. */
  files: number
  /** Parts of any kind per request, `json` included. Default 1000. */
  parts: number
  /** Bytes of each text (non-file) part after `json`. Default 1 MiB. */
  fieldSize: number
  /** Bytes of one part's headers. Default 80 KiB. */
  partHeaderSize: number
  /** Bytes spooled to disk per request so a method can read its files out of order. Default 1 GiB. */
  spoolSize: number
  /** Calls in one JSON batch. Default 100. */
  batchSize: number
}

/** The defaults of {@link Limits}. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  callSize: 1 * MiB,
  fileSize: 32 * GiB,
  files: 100,
  parts: 1000,
  fieldSize: 1 * MiB,
  partHeaderSize: 80 * KiB,
  spoolSize: 1 * GiB,
  batchSize: 100
})

/**
 * Options of the formcall plugin and of `createServer()`.
 *
 * @example
 * ```ts
 * const options: FormcallOptions = { methods, prefix: '/api', limits: { fileSize: 20 * 2 ** 30 } }
 * ```
 */
/** The pool options the plugin passes on to its WorkerExecutor, documented (and defaulted) there once. */
export const POOL_OPTIONS = ['workers', 'maxQueue', 'callTimeout', 'maxHeapMb', 'callsPerWorker', 'recycle'] as const

/** Options of the plugin; the worker pool's (`workers`, `maxQueue`, …) are those of {@link WorkerPoolOptions}. */
export interface FormcallOptions extends Pick<WorkerPoolOptions, (typeof POOL_OPTIONS)[number]> {
  /** The methods object: functions are methods, nested plain objects are namespaces. */
  methods?: MethodsObject
  /** Path of the endpoint. Default `/rpc`. */
  path?: string
  /** Limits; unset members keep their defaults. */
  limits?: Partial<Limits>
  /** Answer `GET <path>?json=<call>`. Off by default: see PROTOCOL.md section 4.4. */
  enableGet?: boolean
  /**
   * Path prefixes a form's call may name as its `redirect` / `errorRedirect` (PROTOCOL.md 13.2). The targets are always
   * same-origin paths; these narrow them further. Default `['/']`: any path of this origin.
   */
  formRedirects?: readonly string[]
  /** Add `data.stack` to errors raised by methods. Off by default: stack traces tell attackers about the server. */
  exposeErrors?: boolean
  /** Runs after the call is parsed and before the method starts; throw an RpcError to refuse the call. */
  beforeCall?: BeforeCallHook
  /**
   * Origins allowed to call from a browser besides the server's own: exact origins (`https://app.example.com`),
   * or `'*'` for any. Same-origin calls and calls without an `Origin` header always pass.
   */
  allowedOrigins?: readonly string[]
  /**
   * Host names (without port) by which browsers may reach this server for same-origin calls, besides `localhost`,
   * `*.localhost` and IP addresses; `true` for any. A page whose origin equals the `Host` it sent is only the
   * server's own page if that name is the server's: a DNS-rebinding page matches itself too. Calls without an
   * `Origin` header (curl, servers) and allowed origins are not affected. Example: `['app.example.com']`.
   */
  allowedHosts?: readonly string[] | true
  /**
   * The directory where upload spool files go (the parts a method reads out of order): this server's alone, created
   * `0700` if missing, and refused at start unless it is a real directory of the server's user that no one else can
   * enter. Spool files left in it by a process that died (`capacitor-*.tmp`) are removed at start; nothing else in it
   * is touched. Default: a directory of this process's own in `tmpDir`, removed at close. Give each server its own.
   */
  spoolDirectory?: string
  /**
   * Where the server makes its own spool directory, `formcall-spool-<uid>-<pid>-<thread>-XXXXXX` (private, removed at
   * close; those of processes that died are removed at start), when `spoolDirectory` is not given. Default: the OS
   * temp dir. A `tmpDir` that is already private to the server's user (`0700`) is used as the spool directory itself.
   */
  tmpDir?: string
  /**
   * Path or URL of a module whose default export is the methods object. Each pool worker imports it
   * (`isolation: 'worker'`, the default when this is given).
   */
  methodsModule?: string | URL
  /**
   * `worker` (default with `methodsModule`): each call runs in a pooled worker thread, isolated from the others.
   * `inline`: in the server's thread; fastest, for tests and trusted code. `methods` objects always run inline.
   */
  isolation?: 'worker' | 'inline'
  /**
   * The window, in milliseconds, over which an upload must keep moving: one that sends nothing (or less than
   * `minUploadRate` allows) for a whole window fails with UPLOAD_STALLED (408). Time the call waits for a worker is
   * not counted. Default 30 000; 0 = off.
   */
  idleUploadTimeout?: number
  /**
   * Bytes per second an upload must average over each `idleUploadTimeout` window. A client trickling a few bytes at a
   * time would otherwise hold a connection, and in worker mode an upload lane, indefinitely. Default 1024 (1 KiB/s:
   * 30 KiB per 30 s window); 0 = any rate above nothing.
   */
  minUploadRate?: number
  /**
   * Milliseconds a call's JSON may take to arrive whole: a JSON or urlencoded body, or a multipart body's `json`
   * part, counted from the request's headers. Past it the call fails with UPLOAD_STALLED (408) and the connection is
   * closed. Default 30 000; 0 = off. (File parts are bounded by `idleUploadTimeout` instead: they may take hours.)
   */
  bodyTimeout?: number
  /** Milliseconds `close()` waits for running calls before stopping them. Default 10 000. */
  shutdownTimeout?: number
  /** Runs methods; overrides `methods`, `methodsModule` and `isolation`. */
  executor?: Executor
  /**
   * Resumable uploads: a tus 1.0 endpoint at `<path>/uploads/` and the `{"$upload": id, "token": …}` placeholder that
   * binds a finished upload to a call (PROTOCOL.md section 11). Off unless given.
   */
  uploads?: UploadsOptions
  /**
   * OpenRPC service discovery: a call to `rpc.discover` is answered with an OpenRPC 1.3.2 document of every method
   * (params with their JSON Schemas, results, summaries, the errors they can raise), made at the first such call. On
   * by default, like any method behind `beforeCall`, which can refuse it. `false` turns it off: `rpc.discover` is then
   * looked up like any other name (and not found). An object sets the document's `info`: `title` (default
   * `formcall`), `version` (the API's, default `0.0.0`), `description`.
   */
  discover?: boolean | DiscoverOptions
}

/**
 * Options of the resumable-upload endpoint.
 *
 * @example
 * ```ts
 * const options: FormcallOptions = {
 *   methods,
 *   uploads: { directory: '/var/lib/app/uploads', maxSize: 20 * 2 ** 30, secret: process.env.UPLOAD_SECRET }
 * }
 * ```
 */
export interface UploadsOptions {
  /**
   * Where uploads are stored (each as `<id>` and `<id>.json`): created `0700` if missing, and refused at start unless
   * it is a real directory of the server's user that no one else can enter. Instances that share it (one host) must
   * share `secret` too.
   */
  directory: string
  /** The largest upload, in bytes; a larger `Upload-Length` is refused with tus's 413. Default `limits.fileSize`. */
  maxSize?: number
  /**
   * Milliseconds from an upload's creation after which it expires, finished or not: it can no longer be resumed
   * (410) nor bound to a call (`-32018`), and a sweep deletes its bytes. Default 86 400 000 (24 h).
   */
  expireAfter?: number
  /**
   * Milliseconds between sweeps that delete expired uploads (one also runs at start). Default the smaller of
   * `expireAfter` and one hour.
   */
  cleanupInterval?: number
  /**
   * The key upload tokens are made with (an HMAC of the upload id): at least 32 bytes, or a string of at least 32
   * characters. Instances that share `directory` must share it, or a call on one cannot bind an upload made on
   * another. Default: a random key kept in the directory (`.formcall-upload-secret`, `0600`), made at the first start,
   * so tokens survive restarts and instances sharing the directory share the key without configuration; give one to
   * keep the key out of the upload store (instances on several hosts, a store readable by backups).
   */
  secret?: string | Uint8Array
  /**
   * Delete an upload once a call that bound it has succeeded (returned a result or a download). Default `false`: the
   * upload stays until it expires, so a client that lost the call's answer can call again without uploading again.
   */
  deleteAfterCall?: boolean
  /**
   * Uploads the store may hold at once, finished or not (counted in `directory` at each creation, so across the
   * instances sharing it); a creation past it is answered 503 (`-32007`, with `Retry-After`). Default 1000.
   */
  maxUploads?: number
  /**
   * Bytes the store's file system must keep free after a creation's declared length; a creation that would leave less
   * is answered 503 (`-32007`). Default 64 MiB. (A disk that fills up anyway fails the PATCH with a 500; the bytes
   * stored so far stay, to be resumed once there is room.)
   */
  minFreeSpace?: number
  /**
   * Runs before every request to the upload endpoint but `OPTIONS` (creations, PATCHes, HEADs, DELETEs); throw an
   * RpcError to refuse it (answered with its status and a JSON error envelope). Without it anyone who can reach the
   * server may upload, within `maxSize`, `maxUploads` and `minFreeSpace`: authenticate here.
   */
  beforeUpload?: BeforeUploadHook
}

/** {@link UploadsOptions} after defaults are applied. */
export interface ResolvedUploads {
  directory: string
  maxSize: number
  expireAfter: number
  cleanupInterval: number
  /** Undefined: the key kept in the directory is used (made at the first start). */
  secret: Uint8Array | undefined
  deleteAfterCall: boolean
  /** Uploads one call may bind: `limits.files`, which they count against as parts do. */
  perCall: number
  maxUploads: number
  minFreeSpace: number
  beforeUpload: BeforeUploadHook | undefined
}

/** Options after defaults are applied. */
export interface ResolvedOptions {
  path: string
  limits: Limits
  enableGet: boolean
  formRedirects: readonly string[]
  exposeErrors: boolean
  beforeCall: BeforeCallHook | undefined
  allowedOrigins: readonly string[]
  allowedHosts: readonly string[] | true
  /** Where spool files go: `tmpDir` here, until the plugin's start puts the spool directory it made safe. */
  tmpDir: string
  idleUploadTimeout: number
  minUploadRate: number
  bodyTimeout: number
  shutdownTimeout: number
  /** Resumable uploads, when enabled. */
  uploads: ResolvedUploads | undefined
  /** The `info` of the discovery document; undefined when discovery is off. */
  discover: OpenRpcInfo | undefined
}

/** Applies defaults and checks values, failing at start-up rather than at the first call. */
export function resolveOptions (options: FormcallOptions): ResolvedOptions {
  const limits: Limits = { ...DEFAULT_LIMITS }
  for (const [key, value] of Object.entries(options.limits ?? {})) {
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) {
      throw new TypeError(`unknown limit "${key}"; known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}`)
    }
    if (value === undefined) continue
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new TypeError(`limits.${key} must be a number >= 0, got ${String(value)}`)
    }
    limits[key as keyof Limits] = value
  }
  const path = options.path ?? '/rpc'
  if (!path.startsWith('/')) throw new TypeError(`path must start with "/", got "${path}"`)
  return {
    path,
    limits,
    enableGet: options.enableGet ?? false,
    formRedirects: formRedirectsOf(options.formRedirects),
    exposeErrors: options.exposeErrors ?? false,
    beforeCall: options.beforeCall,
    allowedOrigins: options.allowedOrigins ?? [],
    allowedHosts: options.allowedHosts ?? [],
    tmpDir: options.tmpDir ?? tmpdir(),
    idleUploadTimeout: options.idleUploadTimeout ?? 30_000,
    minUploadRate: options.minUploadRate ?? 1024,
    bodyTimeout: options.bodyTimeout ?? 30_000,
    shutdownTimeout: options.shutdownTimeout ?? 10_000,
    uploads: options.uploads === undefined ? undefined : resolveUploads(options.uploads, limits),
    discover: discoveryInfo(options.discover)
  }
}

const MIN_SECRET_BYTES = 32
/** setTimeout fires at once for a delay above 2^31 - 1 ms, so a longer sweep interval would mean a busy loop. */
const MAX_TIMER_MS = 2 ** 31 - 1

function resolveUploads (options: UploadsOptions, limits: Limits): ResolvedUploads {
  if (typeof options !== 'object' || options === null) throw new TypeError('uploads must be an object such as { directory: "/var/lib/app/uploads" }')
  const { directory } = options
  if (typeof directory !== 'string' || directory.trim() === '') {
    throw new TypeError('uploads.directory must be a directory path: where the uploads are stored')
  }
  const positive = (name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      throw new TypeError(`uploads.${name} must be a whole number from 1 to ${max}, got ${String(value)}`)
    }
    return value
  }
  const maxSize = positive('maxSize', options.maxSize, limits.fileSize)
  const expireAfter = positive('expireAfter', options.expireAfter, 24 * 60 * 60 * 1000)
  const cleanupInterval = positive('cleanupInterval', options.cleanupInterval, Math.min(expireAfter, 60 * 60 * 1000, MAX_TIMER_MS), MAX_TIMER_MS)
  let secret: Uint8Array | undefined
  if (options.secret !== undefined) {
    secret = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret
    if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_SECRET_BYTES) {
      throw new TypeError(`uploads.secret must be at least ${MIN_SECRET_BYTES} bytes (or characters): it is the key of the ` +
        'upload tokens; make one with `openssl rand -hex 32`')
    }
  }
  if (options.deleteAfterCall !== undefined && typeof options.deleteAfterCall !== 'boolean') {
    throw new TypeError(`uploads.deleteAfterCall must be true or false, got ${String(options.deleteAfterCall)}`)
  }
  if (options.beforeUpload !== undefined && typeof options.beforeUpload !== 'function') {
    throw new TypeError('uploads.beforeUpload must be a function that throws an RpcError to refuse a request')
  }
  return {
    directory,
    maxSize,
    expireAfter,
    cleanupInterval,
    secret,
    deleteAfterCall: options.deleteAfterCall ?? false,
    perCall: limits.files,
    maxUploads: positive('maxUploads', options.maxUploads, 1000),
    minFreeSpace: options.minFreeSpace === 0 ? 0 : positive('minFreeSpace', options.minFreeSpace, 64 * 1024 * 1024),
    beforeUpload: options.beforeUpload
  }
}

/** The logger a method sees: Fastify's request logger. */
export type Logger = FastifyBaseLogger

/**
 * Whether `prefix` can be a `formRedirects` prefix: a path of this origin, so it starts with one `/` (`//host/`
 * would name another origin).
 */
export function isOriginPathPrefix (prefix: unknown): prefix is string {
  return typeof prefix === 'string' && prefix.startsWith('/') && !prefix.startsWith('//')
}

/** The `formRedirects` prefixes, checked: each a path of this origin. */
function formRedirectsOf (prefixes: readonly string[] | undefined): readonly string[] {
  if (prefixes === undefined) return ['/']
  if (!Array.isArray(prefixes) || prefixes.length === 0) {
    throw new TypeError('formRedirects must be a non-empty array of path prefixes such as ["/forms/"]')
  }
  for (const prefix of prefixes) {
    if (!isOriginPathPrefix(prefix)) {
      throw new TypeError(`formRedirects: "${String(prefix)}" is not a path of this origin; write it as "/…"`)
    }
  }
  return Object.freeze([...prefixes])
}
