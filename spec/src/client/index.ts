/**
 * The client core both formcall clients are built on: the method-path proxy, option merging, the params walk that
 * takes files out, the call's JSON, and the decoding of answers (PROTOCOL.md 5.7). A client adds only its transport
 * (Node's http request, a browser's XHR) and its test of what is a file, so the two cannot drift on the protocol.
 *
 * It imports neither client nor any platform API beyond the language and `AbortSignal`.
 *
 * @example
 * ```ts
 * import { createClientProxy, decodeEnvelope, mergeOptions, noOptions } from '@formcall/spec/client'
 * ```
 *
 * @packageDocumentation
 */
export { createClientProxy } from './client-proxy.js'
export type { CallParamsLike, ClientDefinition } from './client-proxy.js'
export { mergeOptions, noOptions } from './call-options.js'
export type { HeaderEntry, MergedOptions, SharedCallOptions } from './call-options.js'
export { collectFiles } from './collect-files.js'
export type { Classified, CollectedFiles, FoundFile } from './collect-files.js'
export { callJson } from './call-json.js'
export type { CallToWrite } from './call-json.js'
export { decodeEnvelope } from './decode-envelope.js'
export type { AnswerContext } from './decode-envelope.js'
