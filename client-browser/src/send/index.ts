export { sendRequest } from './send-request.js'
export type { HttpAnswer } from './send-request.js'
