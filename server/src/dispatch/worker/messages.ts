/**
 * The worker protocol: everything that crosses the thread boundary, main side and worker side, in one place.
 *
 * - The piscina task ({@link CallTask}) starts a call: the method name and the params as they came on the wire. It
 *   settles when the worker is free again.
 * - Everything a worker says about a call goes up its own `parentPort`, tagged with the call's number
 *   ({@link WorkerToMain}): that it started, log lines, requests for file bytes, and the call's {@link WireOutcome}.
 *   One ordered lane per worker: a log line always arrives before the outcome that follows it, and Node delivers
 *   what a worker posted there before it reports the worker's exit.
 * - A call with file arguments brings a MessagePort in its task ({@link FilesTask}); the main thread sends the files'
 *   headers and bytes down it ({@link MainToWorker}), paced by the worker's acks. A call without files (most calls)
 *   costs no channel at all.
 * - Aborts go to every worker on one BroadcastChannel ({@link Control}): rare, and a worker must also learn of a call
 *   aborted before it reached it.
 * - File bytes, both ways, move in batches under credit flow control (credit-flow.ts).
 * - A download gets a channel of its own, made by the worker and handed up with the outcome ({@link DownloadToMain},
 *   {@link DownloadToWorker}).
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { MessagePort } from 'node:worker_threads'
import type { MethodShape } from '../../shape/method-shape.js'
import type { CallId, ErrorObject } from '@formcall/spec'
import type { FileInfo } from '../../bind/uploaded-file.js'

/** `workerData` of every pool worker. */
export interface StartupData {
  /** URL of the methods module the worker imports. */
  methodsModule: string
  /** URL of the worker's own code: compiled worker-entry.js, or its TypeScript source inside the repository. */
  entry: string
  /** When a worker retires between calls; see {@link RecyclePolicy}. */
  recycle: RecyclePolicy
  /** Name of the BroadcastChannel that carries {@link Control} messages to the workers. */
  control: string
  /** The memory of the pool's StartBoard, where a worker notes that a call started, and its number of slots. */
  board: SharedArrayBuffer
  boardSlots: number
}

/**
 * When a worker leaves the pool after a call (the pool starts a fresh one):
 * - `after-errors`: after an exception that no running call owns, e.g. from a timer a finished method left behind;
 * - `after-leftovers`: also after a call that left timers, sockets, handles or other work running;
 * - `after-every-call`: after every call, so no call ever sees state another left.
 */
export type RecyclePolicy = 'after-errors' | 'after-leftovers' | 'after-every-call'

/**
 * The message of the error a retiring worker's task fails with when a call reaches it anyway (the pool had not yet
 * heard it retire): the call did not start, so the pool runs it on another worker. Followed by the thread id.
 */
export const RETIRING = 'formcall worker retiring: '

/** The piscina task: one call. */
export interface CallTask {
  /** The call's number, unique in the pool: every message about the call carries it. */
  call: number
  /** The call's slot on the StartBoard. */
  slot: number
  method: string
  /** The params as they came on the wire: the worker binds their placeholders itself, as the server would. */
  params: readonly unknown[]
  /** The call's file arguments, when it has any. */
  files?: FilesTask
  /** The call's context, minus what cannot cross threads (signal, logger): `logLevel` is the request logger's level. */
  context: { method: string, id: CallId, headers: IncomingHttpHeaders, remoteAddress: string, logLevel: string }
  exposeErrors: boolean
  /**
   * The worker runs other calls too (`callsPerWorker` > 1): let messages already sent for this call (an abort while
   * it was queued) arrive before the method starts.
   */
  shared: boolean
}

/**
 * The file arguments of a call: the part names its placeholders were bound to in the server (a file's number in every
 * message is its index in `file`, then the items of lists in the order the worker was sent them), and the port their
 * headers and bytes come down.
 */
export interface FilesTask {
  /**
   * Part names of the `$file` placeholders (and krpc's `__file__:` strings), and the keys (`$upload:<id>`) of the
   * resumable uploads the main thread bound and opened: their bytes come down the port as a part's do.
   */
  file: string[]
  /** The headers of those parts that had arrived when the task was made (`null`: not yet), by the same index. */
  infos: Array<FileInfo | null>
  /** Part names of the `$files` placeholders; a list's number is its index here. */
  list: string[]
  port: MessagePort
}

/** How a call ended, as a worker reports it; a download brings the port its bytes come up. */
export type WireOutcome =
  | { kind: 'json', json: string }
  | { kind: 'error', error: ErrorObject }
  | { kind: 'download', filename: string | undefined, type: string, size: number | undefined, port: MessagePort }

/** What a worker says about one call. */
export type CallReport =
  /** A call with files started: its upload may be read again. (Any call notes its start on the StartBoard.) */
  | { t: 'start', threadId: number }
  | { t: 'outcome', outcome: WireOutcome }
  | { t: 'log', level: LogLevel, msg: string, obj?: unknown }
  | { t: 'ready', file: number }
  | { t: 'open', file: number }
  | { t: 'ack', file: number, n: number }
  | { t: 'next', list: number }

/** A {@link CallReport} as it goes up the worker's `parentPort`, tagged with the call's number. */
export type WorkerToMain = { call: number } & CallReport

/**
 * What a worker tells the pool beside its calls, up the same `parentPort`: that it loaded the methods module and takes
 * calls (`booted`), an error no running call owned (`fault`), or that it should leave the pool (`retire`). A worker does not exit by itself: a result it posted just before could
 * be lost, so the pool terminates it once no call of it is running.
 */
export type PoolNotice =
  | { t: 'booted', threadId: number }
  | { t: 'fault', threadId: number, method: string | undefined, error: ErrorObject }
  | { t: 'retire', threadId: number }

/** Messages from the main thread to a worker about one call's files, down the call's port. */
export type MainToWorker =
  | { t: 'info', file: number, info: FileInfo }
  | { t: 'data', file: number, chunks: Uint8Array[] }
  | { t: 'end', file: number }
  | { t: 'fail', file: number, error: ErrorObject }
  | { t: 'item', list: number, file: number, info: FileInfo }
  | { t: 'items-end', list: number }
  | { t: 'items-fail', list: number, error: ErrorObject }
  /** The call was aborted; sent down the port too, so the worker hears it before the failures of the files it causes. */
  | { t: 'abort', error: ErrorObject }

/**
 * Messages from the main thread to every worker: a call was aborted. The worker running it aborts its method; the
 * others remember the number, in case the call is still on its way to one of them.
 */
export type Control = { t: 'abort', call: number, error: ErrorObject }

/** A download's bytes, up its own port. */
export type DownloadToMain =
  | { t: 'data', chunks: Uint8Array[] }
  | { t: 'end' }
  | { t: 'error', error: ErrorObject }

/** A download's flow control, down its port. */
export type DownloadToWorker = { t: 'ack', n: number } | { t: 'cancel' }

/** Log levels a method's logger forwards. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

/** Whether a message up a worker's `parentPort` is a {@link PoolNotice} rather than about a call. */
export function isPoolNotice (message: WorkerToMain | PoolNotice): message is PoolNotice {
  return message.t === 'fault' || message.t === 'retire' || message.t === 'booted'
}

/** The task that asks a worker for the methods it loaded: answered with a {@link MethodListing}. */
export interface ListTask { readonly list: true }

/**
 * The task that asks a worker to describe its methods for OpenRPC discovery (their schemas exist only in the
 * workers): answered with their `MethodsDescription` (describe/openrpc.ts).
 */
export interface DescribeTask { readonly describe: true }

/** Every callable method's dotted name with its shape (arity, names, file rules), for the main thread. */
export type MethodListing = Array<[name: string, shape: MethodShape]>
