export { uploadCallFiles, uploadsEndpoint } from './upload-call-files.js'
export type { CallUploadContext, UploadedCall } from './upload-call-files.js'
