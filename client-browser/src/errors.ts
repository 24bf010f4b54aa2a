export { TransportError, isTransportError } from '@formcall/spec'
export type { TransportErrorKind } from '@formcall/spec'
