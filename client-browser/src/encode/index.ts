export { encodeCall } from './encode-call.js'
export type { EncodedCall } from './encode-call.js'
