export { encodeCall, encodeCollected } from './encode-call.js'
export { classifyFileLike } from './classify-file-like.js'
export type { EncodedCall } from './encode-call.js'
