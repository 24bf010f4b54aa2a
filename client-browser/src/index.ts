/**
 * formcall's browser client: call server methods over plain HTTP, with File, Blob and FileList as ordinary
 * arguments, upload progress, cancellation, resumable uploads (tus) for big files, and downloads as Blobs.
 *
 * @example
 * ```ts
 * import { createClient, fromForm, resumable, saveDownload, RpcError, TransportError } from '@formcall/client-browser'
 * ```
 *
 * @packageDocumentation
 */
export { createClient } from './create-client.js'
export type { Client, ClientControls, CallParams, UntypedApi } from './create-client.js'
export type { CallOptions, ClientOptions, UploadProgress } from './call-options.js'
export type { DownloadedBlob } from './decode/index.js'
export { TransportError } from './errors.js'
export type { TransportErrorKind } from './errors.js'
export { fromForm } from './from-form.js'
export type { FormParams, FormValue } from './from-form.js'
export { saveDownload } from './save-download.js'
export { resumable } from './resumable.js'
export type { ResumableOptions, ResumableFileOptions } from './resumable.js'
// Shared with the server and the Node client, so one `catch` handles errors from either client the same way.
export { RpcError, isRpcError, ErrorCode } from '@formcall/spec'
export type { ErrorCodeName, ErrorObject } from '@formcall/spec'
