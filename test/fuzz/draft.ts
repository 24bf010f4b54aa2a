/**
 * A request under mutation. It keeps its structure (the call's JSON text, the multipart parts) for as long as the
 * mutators work on structure; a byte-level mutator first flattens it into `body` bytes. `wire()` turns it into the
 * exact bytes sent on the socket.
 */

/** One multipart part: its header lines (no CRLF) and its content. */
export interface Part {
  headers: string[]
  content: Buffer
}

/** The multipart structure of a body. */
export interface MultipartShape {
  /** The delimiter written into the body (the header's boundary unless a mutator made them differ). */
  delimiter: string
  parts: Part[]
  /** Bytes before the first delimiter. */
  preamble: Buffer
  /** The closing delimiter and anything after it (`--b--\r\n`; empty when a mutator removed it). */
  closing: Buffer
  /** The line break between framing elements; `\n` when a mutator made it bare. */
  eol: string
}

/** Where the call's JSON text sits in the request. */
export type CallSlot = 'part' | 'body' | 'urlencoded' | 'query'

/** How the body is framed on the wire. */
export type Framing =
  | { kind: 'length' }
  /** Content-Length differs from the body's size by `delta` bytes. */
  | { kind: 'length-lie', delta: number }
  /** Content-Length given verbatim (not a number, several values, …). */
  | { kind: 'length-raw', value: string }
  /** Neither Content-Length nor Transfer-Encoding: Node sees no body and the bytes as the next request. */
  | { kind: 'none' }
  | { kind: 'chunked', chunk: number, breakage: ChunkBreakage }

/** Ways a chunked body can be broken. */
export type ChunkBreakage = 'none' | 'bad-size' | 'no-last-chunk' | 'size-too-big' | 'extension' | 'no-crlf' | 'with-length'

/** A request being built. */
export interface Draft {
  /** The corpus entry it started from. */
  readonly seed: string
  method: string
  target: string
  version: string
  /** Headers as sent, in order; `Content-Length` / `Transfer-Encoding` are added by the framing. */
  headers: Array<[string, string]>
  /** The call's JSON text while it is still separate from the body. */
  callText: string | undefined
  callSlot: CallSlot
  /** The multipart parts while they are still separate from the body (the call is part 0's content). */
  multipart: MultipartShape | undefined
  /** The body bytes, once flattened (or for bodies that never had structure). */
  body: Buffer
  framing: Framing
  /**
   * Half-close the connection after the body. Off by default, as real clients do: the connection stays open until
   * the server answers (its timeouts bound a body that never completes).
   */
  endWrite: boolean
  /** Write the bytes in this many pieces. */
  pieces: number
}

/** The multipart body bytes of a shape. */
export function multipartBytes (shape: MultipartShape): Buffer {
  const out: Buffer[] = [shape.preamble]
  for (const part of shape.parts) {
    out.push(Buffer.from(`--${shape.delimiter}${shape.eol}${part.headers.map((line) => line + shape.eol).join('')}${shape.eol}`, 'latin1'))
    out.push(part.content, Buffer.from(shape.eol))
  }
  out.push(shape.closing)
  return Buffer.concat(out)
}

/**
 * Folds the structure into `body`, so byte-level mutators can work on it. After this, structural mutators no
 * longer apply.
 */
export function flatten (draft: Draft): void {
  if (draft.callText !== undefined) {
    if (draft.callSlot === 'part' && draft.multipart !== undefined && draft.multipart.parts[0] !== undefined) {
      draft.multipart.parts[0].content = Buffer.from(draft.callText)
    } else if (draft.callSlot === 'body') {
      draft.body = Buffer.from(draft.callText)
    } else if (draft.callSlot === 'urlencoded') {
      draft.body = Buffer.from(`json=${encodeURIComponent(draft.callText)}`)
    } else if (draft.callSlot === 'query') {
      const path = draft.target.split('?')[0] ?? draft.target
      draft.target = `${path}?json=${encodeURIComponent(draft.callText)}`
    }
    draft.callText = undefined
  }
  if (draft.multipart !== undefined) {
    draft.body = multipartBytes(draft.multipart)
    draft.multipart = undefined
  }
}

/** The request's bytes: head and body, split into the pieces to write. */
export function wire (draft: Draft): { head: Buffer, body: Buffer } {
  flatten(draft)
  const headers = [...draft.headers]
  let body = draft.body
  const framing = draft.framing
  switch (framing.kind) {
    case 'length':
      headers.push(['Content-Length', String(body.length)])
      break
    case 'length-lie':
      headers.push(['Content-Length', String(Math.max(0, body.length + framing.delta))])
      break
    case 'length-raw':
      headers.push(['Content-Length', framing.value])
      break
    case 'none':
      break
    case 'chunked':
      headers.push(['Transfer-Encoding', 'chunked'])
      if (framing.breakage === 'with-length') headers.push(['Content-Length', String(body.length)])
      body = chunked(body, framing.chunk, framing.breakage)
      break
  }
  const lines = [`${draft.method} ${draft.target} ${draft.version}`, ...headers.map(([name, value]) => `${name}: ${value}`)]
  return { head: Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body }
}

function chunked (body: Buffer, size: number, breakage: ChunkBreakage): Buffer {
  const out: Buffer[] = []
  const step = Math.max(1, size)
  for (let at = 0; at < body.length; at += step) {
    const piece = body.subarray(at, at + step)
    let sizeLine = piece.length.toString(16)
    if (breakage === 'bad-size' && at === 0) sizeLine = 'zz'
    if (breakage === 'size-too-big' && at + step >= body.length) sizeLine = (piece.length + 7).toString(16)
    if (breakage === 'extension') sizeLine += ';ext="a\u0001b";' + 'x'.repeat(200)
    out.push(Buffer.from(sizeLine + '\r\n'), piece, Buffer.from(breakage === 'no-crlf' ? '' : '\r\n'))
  }
  if (breakage !== 'no-last-chunk' && breakage !== 'size-too-big') out.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(out)
}
