/**
 * The formcall Node client: call server methods over HTTP with files as ordinary arguments.
 *
 * @example
 * ```ts
 * import { createClient, fileFromPath } from '@formcall/client-node'
 * const api = createClient<typeof methods>('http://localhost:8080/rpc')
 * await api.files.store({ title: 'Q3', file: fileFromPath('./q3.pdf') })
 * await api.videos.publish({ video: fileFromPath('./talk.mp4', { resumable: true }) }) // tus upload, then the call
 * ```
 */
export { createClient } from './create-client.js'
export { fileFromPath, LocalFile } from './file-from-path.js'
export type { FileFromPathOptions } from './file-from-path.js'
export { DownloadedFile } from './decode/index.js'
export { TransportError, isTransportError } from './errors.js'
export type { TransportErrorKind } from './errors.js'
export type {
  CallOptions,
  CallParams,
  Client,
  ClientControls,
  ClientOptions,
  FileLike,
  ResumableOptions,
  UntypedApi,
  UploadProgress
} from './types.js'
// Re-exported so callers can catch the server's errors without a second import.
export { RpcError, isRpcError, ErrorCode } from '@formcall/spec'
