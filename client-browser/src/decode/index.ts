export { decodeAnswer } from './decode-answer.js'
export type { DownloadedBlob } from './read-download.js'
