/**
 * What a methods module needs, without the HTTP server: `@formcall/server/methods`. A methods module is imported by
 * every pool worker; importing from here keeps Fastify, piscina and busboy out of the workers (the package's main
 * entry loads them all).
 *
 * @example
 * ```ts
 * import { callContext, download, RpcError, type UploadedFile } from '@formcall/server/methods'
 *
 * export default {
 *   async size (file: UploadedFile) {
 *     callContext().log.info({ file: file.filename }, 'measuring')
 *     return (await file.bytes()).length
 *   },
 *   report: () => download(Buffer.from('a,b\n'), { filename: 'report.csv', type: 'text/csv' })
 * }
 * ```
 *
 * @packageDocumentation
 */
export { callContext } from './dispatch/call-context.js'
export type { CallContext } from './dispatch/call-context.js'
export { UploadedFile, UploadedFiles } from './bind/uploaded-file.js'
export type { FileInfo } from './bind/uploaded-file.js'
export { Download, download, downloadFile } from './dispatch/download.js'
export { defineMethod } from './shape/define-method.js'
export type {
  ArgsOf, DefinedMethod, MethodDefinition, NamedParams, ParamsDefinition, PositionalParams
} from './shape/define-method.js'
export { file, files } from './shape/file-params.js'
export type { FileConstraints, FileListConstraints, FileParamSchema } from './shape/file-params.js'
export type { ParamIssue } from './shape/param-issues.js'
export type { DownloadOptions } from './dispatch/download.js'
export { RpcError, ErrorCode, isRpcError } from '@formcall/spec'
