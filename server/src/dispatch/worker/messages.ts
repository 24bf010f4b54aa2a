/**
 * The worker protocol: every message that crosses the thread boundary, main side and worker side, in one place.
 *
 * One MessagePort per call carries file bytes in (with credit-based flow control), the outcome, and download bytes out.
 * The piscina task itself only starts the call and settles when the worker is free again.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { MessagePort } from 'node:worker_threads'
import type { CallId, ErrorObject } from '@formcall/spec'
import type { FileInfo } from '../../bind/uploaded-file.js'

/** Chunks the sender may have in flight before it waits for an ack. */
export const CREDIT_WINDOW = 16
/** The receiver acks every this many chunks it handed on. */
export const ACK_EVERY = 8

/** `workerData` of every pool worker. */
export interface StartupData {
  /** URL of the methods module the worker imports. */
  methodsModule: string
  /** URL of the worker's own code: compiled worker-entry.js, or its TypeScript source inside the repository. */
  entry: string
  /** When a worker retires between calls; see {@link RecyclePolicy}. */
  recycle: RecyclePolicy
  /** Name of the BroadcastChannel on which workers send the pool {@link PoolNotice}s. */
  faults: string
}

/**
 * When a worker leaves the pool after a call (the pool starts a fresh one):
 * - `after-errors`: after an exception that no running call owns, e.g. from a timer a finished method left behind;
 * - `after-leftovers`: also after a call that left timers, sockets, handles or other work running;
 * - `after-every-call`: after every call, so no call ever sees state another left.
 */
export type RecyclePolicy = 'after-errors' | 'after-leftovers' | 'after-every-call'

/**
 * What a worker tells the pool beside its calls: an error no running call owned (`fault`), or that it should leave
 * the pool (`retire`). A worker does not exit by itself: a result it posted just before could be lost, so the pool
 * terminates it once no call of it is running.
 */
export type PoolNotice = { readonly t: 'fault' } & WorkerFault | { readonly t: 'retire', readonly threadId: number }

/**
 * The message of the error a retiring worker's task fails with when a call reaches it anyway (the pool had not yet
 * heard it retire): the call did not start, so the pool runs it on another worker. Followed by the thread id.
 */
export const RETIRING = 'formcall worker retiring: '

/** An error no running call owned. */
export interface WorkerFault {
  readonly threadId: number
  /** The method whose call left the failing work behind, when known. */
  readonly method: string | undefined
  readonly error: ErrorObject
}

/**
 * Where a file object stands in the args, as a path of keys and indexes from the args array: the worker puts a file
 * object (`file`: an index into `fileFields`) or a `$files` list (`files`: a group index) there. The places travel
 * beside the args, never inside them, so no value a client sends can be taken for a file.
 */
export type FilePlace =
  | { readonly path: ReadonlyArray<string | number>, readonly kind: 'file', readonly index: number }
  | { readonly path: ReadonlyArray<string | number>, readonly kind: 'files', readonly index: number, readonly field: string }

/** The piscina task: one call. */
export interface CallTask {
  method: string
  /** Args with each UploadedFile / UploadedFiles replaced by `null`; {@link FilePlace}s say what goes there. */
  args: unknown[]
  /** Where the file objects go in `args`. */
  filePlaces: FilePlace[]
  /** The field names of the files, indexed by a `file` place's index. */
  fileFields: string[]
  /** The headers of the files whose parts had arrived when the task was made (`null`: not yet), by the same index. */
  fileInfos: Array<FileInfo | null>
  /** The call's context, minus what cannot cross threads (signal, logger): `logLevel` is the request logger's level. */
  context: { method: string, id: CallId, headers: IncomingHttpHeaders, remoteAddress: string, logLevel: string }
  port: MessagePort
  exposeErrors: boolean
  /**
   * The worker runs other calls too (`callsPerWorker` > 1): let messages already sent for this call (an abort while
   * it was queued) arrive before the method starts.
   */
  shared: boolean
}

/** Messages from the worker to the main thread. */
export type WorkerToMain =
  | { t: 'start', threadId: number }
  | { t: 'open', file: number }
  | { t: 'ready', file: number }
  | { t: 'ack', file: number, n: number }
  | { t: 'next', group: number }
  | { t: 'result', json: string }
  | { t: 'error', error: ErrorObject, fromMethod: boolean }
  | { t: 'download', filename: string | undefined, type: string, size: number | undefined }
  | { t: 'dl-data', chunk: Uint8Array }
  | { t: 'dl-end' }
  | { t: 'dl-error', error: ErrorObject }
  | { t: 'log', level: LogLevel, msg: string, obj?: unknown }

/** Messages from the main thread to the worker. */
export type MainToWorker =
  | { t: 'info', file: number, info: FileInfo }
  | { t: 'data', file: number, chunk: Uint8Array }
  | { t: 'end', file: number }
  | { t: 'fail', file: number, error: ErrorObject }
  | { t: 'item', group: number, file: number, info: FileInfo }
  | { t: 'items-end', group: number }
  | { t: 'items-fail', group: number, error: ErrorObject }
  | { t: 'dl-ack', n: number }
  | { t: 'dl-cancel' }
  | { t: 'abort', error: ErrorObject }

/** Log levels a method's logger forwards. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

/**
 * A copy of `chunk` in its own ArrayBuffer, ready to transfer. Posting a Buffer view directly would clone its whole
 * backing ArrayBuffer, which for parser and socket chunks is a shared pool many times the chunk's size.
 */
export function ownCopy (chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk)
}
