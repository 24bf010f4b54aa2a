export {
  ERROR_REGISTRY,
  ErrorCode,
  APPLICATION_ERROR_HTTP_STATUS,
  errorInfo,
  httpStatusOf,
  statusRuleOf
} from './error-codes.js'
export type { RegisteredCode, ErrorCodeName, StatusRule } from './error-codes.js'
export { RpcError, isRpcError } from './rpc-error.js'
export {
  DEFAULT_RPC_PATH,
  CALL_FIELD,
  CALL_FIELD_NAMES,
  DOWNLOAD_HEADER,
  METHOD_HEADER,
  JSONRPC_VERSION
} from './wire.js'
export type {
  CallId,
  JsonValue,
  CallEnvelope,
  ErrorObject,
  SuccessResponse,
  ErrorResponse,
  ResponseEnvelope
} from './wire.js'
export {
  FILE_KEY,
  FILES_KEY,
  KRPC_FILE_PREFIX,
  parsePlaceholder,
  filePlaceholder,
  UPLOAD_KEY,
  UPLOAD_TOKEN_KEY,
  UPLOAD_TOKEN_HEADER,
  UPLOADS_SUBPATH,
  parseUploadPlaceholder,
  uploadPlaceholder
} from './placeholders.js'
export type { Placeholder, UploadPlaceholder } from './placeholders.js'
export { FILE_BRAND, FILES_BRAND, DOWNLOAD_BRAND, hasBrand } from './remote-types.js'
export type { RemoteApi, RemoteFunction, RemoteParam, RemoteResult, DownloadLike, Promisified } from './remote-types.js'
export { TransportError, isTransportError } from './transport-error.js'
export type { TransportErrorKind } from './transport-error.js'
export { formatContentDisposition, filenameFromContentDisposition } from './content-disposition.js'
