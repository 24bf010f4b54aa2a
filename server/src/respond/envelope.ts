import { JSONRPC_VERSION, type RpcError } from '@formcall/spec'
import { RawId, type ResponseId } from '../parse/raw-id.js'

/**
 * The JSON text of a response's id: a {@link RawId} as the client wrote it (JSON.stringify cannot write a number
 * literal it is given as text), anything else as JSON.stringify writes it.
 */
export function idJson (id: ResponseId): string {
  return id instanceof RawId ? id.text : JSON.stringify(id)
}

/** The error envelope as JSON text, with the id as the client sent it. */
export function serializeError (id: ResponseId, err: RpcError): string {
  return `{"jsonrpc":"${JSONRPC_VERSION}","id":${idJson(id)},"error":${JSON.stringify(err.toJSON())}}`
}

/** The success envelope as JSON text, with the id as the client sent it and the result's JSON text. */
export function serializeSuccess (id: ResponseId, resultJson: string): string {
  return `{"jsonrpc":"${JSONRPC_VERSION}","id":${idJson(id)},"result":${resultJson}}`
}
