/**
 * The valid requests the fuzzer starts from: every encoding PROTOCOL.md section 4 describes, every placeholder form
 * of section 3, and the methods of fuzz-methods.ts that read files in order, out of order, partly or not at all.
 * Each entry is answered with a result (or the error it names) before mutation.
 */
import type { Draft, Part } from './draft.js'
import { PNG_HEAD } from './fuzz-methods.js'

/** The boundary of the corpus' multipart bodies. */
export const BOUNDARY = '----formcallFuzz7MA4YWxkTrZu0gW'

/** The endpoint path of the fuzz server. */
export const RPC_PATH = '/rpc'

function filePart (name: string, filename: string, content: Buffer | string, type = 'application/octet-stream'): Part {
  return {
    headers: [`Content-Disposition: form-data; name="${name}"; filename="${filename}"`, `Content-Type: ${type}`],
    content: Buffer.from(content)
  }
}

function textPart (name: string, content: string): Part {
  return { headers: [`Content-Disposition: form-data; name="${name}"`], content: Buffer.from(content) }
}

/** Deterministic bytes of every value, so a file's digest is checkable. */
function bytes (n: number, salt = 0): Buffer {
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + salt) & 0xff
  return out
}

interface MultipartSeed {
  what: string
  call: unknown
  /** The call part's header lines; a plain text field by default. */
  callHeaders?: string[]
  parts: Part[]
}

const MULTIPART: readonly MultipartSeed[] = [
  { what: 'multipart $file', call: { method: 'digest', params: [{ $file: 'f' }], id: 1 }, parts: [filePart('f', 'a.bin', bytes(300))] },
  {
    what: 'multipart $files',
    call: { method: 'digest', params: [{ $files: 'docs' }], id: 'two' },
    parts: [filePart('docs', 'a.txt', 'alpha', 'text/plain'), filePart('docs', 'b.txt', 'beta', 'text/plain')]
  },
  { what: 'multipart krpc __file__', call: { method: 'digest', params: ['__file__:x1'] }, parts: [filePart('__file__:x1', 'k.bin', bytes(64, 7))] },
  { what: 'multipart text part as a file', call: { method: 'text', params: [{ $file: 'note' }], id: 3 }, parts: [textPart('note', 'hello, fuzz')] },
  {
    what: 'multipart read out of order',
    call: { method: 'reverse', params: [{ $file: 'a' }, { $file: 'b' }], id: 4 },
    parts: [filePart('a', 'a.bin', bytes(40_000, 1)), filePart('b', 'b.bin', bytes(500, 2))]
  },
  {
    what: 'multipart json sent as a file',
    call: { method: 'digest', params: { title: 't', file: { $file: 'f' } }, id: 5 },
    callHeaders: ['Content-Disposition: form-data; name="json"; filename="call.json"', 'Content-Type: application/json'],
    parts: [filePart('f', 'f.bin', bytes(10))]
  },
  {
    what: 'multipart with unreferenced parts',
    call: { method: 'echo', params: [{ $file: 'f' }], id: 6 },
    parts: [textPart('extra', 'ignored'), filePart('f', 'f.bin', bytes(20)), filePart('other', 'o.bin', bytes(2000, 3))]
  },
  {
    what: 'multipart method reads part of a file',
    call: { method: 'partial', params: [{ $file: 'f' }], id: 7 },
    parts: [filePart('f', 'big.bin', bytes(120_000, 4))]
  },
  { what: 'multipart method ignores its file', call: { method: 'ignore', params: [{ $file: 'f' }], id: 8 }, parts: [filePart('f', 'f.bin', bytes(5000))] },
  { what: 'multipart empty file', call: { method: 'digest', params: [{ $file: 'e' }], id: 9 }, parts: [filePart('e', '', '')] },
  { what: 'multipart method raises', call: { method: 'raise', params: [{ $file: 'f' }], id: 10 }, parts: [filePart('f', 'f.bin', bytes(100))] },
  {
    what: 'multipart list of $file',
    call: { jsonrpc: '2.0', method: 'digest', params: [[{ $file: 'p0' }, { $file: 'p1' }, { $file: 'p2' }]], id: 11 },
    parts: [filePart('p0', '0', bytes(1)), filePart('p1', '1', bytes(2)), filePart('p2', '2', bytes(3))]
  },
  {
    what: 'multipart schema-checked params and file params',
    call: { jsonrpc: '2.0', method: 'checked', params: { title: 'a photo', photo: { $file: 'p' }, more: { $files: 'm' } }, id: 12 },
    parts: [filePart('p', 'p.png', Buffer.concat([PNG_HEAD, bytes(3000, 5)]), 'image/png'), filePart('m', 'm1', bytes(10)), filePart('m', 'm2', bytes(20))]
  },
  {
    what: 'multipart form whose fields are the params',
    call: { method: 'digest' },
    parts: [textPart('title', 'a form'), filePart('photos', 'a.bin', bytes(2000, 6)), filePart('photos', 'b.bin', bytes(10)), textPart('note', 'after the files'), filePart('empty', '', '')]
  },
  {
    what: 'multipart positional schemas with a file where a number is',
    call: { method: 'positional', params: [{ $file: 'f' }, 'abc'], id: 13 },
    parts: [filePart('f', 'f.bin', bytes(10))]
  }
]

interface BodySeed {
  what: string
  method?: string
  target?: string
  type: string
  call: unknown
  slot: 'body' | 'urlencoded' | 'query'
}

const BODIES: readonly BodySeed[] = [
  { what: 'json call', type: 'application/json', call: { method: 'echo', params: ['hi', 1, null], id: 20 }, slot: 'body' },
  { what: 'json named params', type: 'application/json; charset=utf-8', call: { method: 'echo', params: { a: [1, { b: 2 }] }, id: 'n' }, slot: 'body' },
  { what: 'json notification', type: 'application/json', call: { jsonrpc: '2.0', method: 'echo', params: [1] }, slot: 'body' },
  { what: 'json application error', type: 'application/json', call: { method: 'fail', params: [], id: 21 }, slot: 'body' },
  { what: 'json unknown method', type: 'application/json', call: { method: 'no.such', id: 22 }, slot: 'body' },
  {
    what: 'json batch',
    type: 'application/json',
    call: [{ method: 'echo', params: [1], id: 1 }, { jsonrpc: '2.0', method: 'echo', params: [2] }, { method: 'raise', id: 3 }],
    slot: 'body'
  },
  { what: 'urlencoded call', type: 'application/x-www-form-urlencoded', call: { method: 'echo', params: ['form'], id: 23 }, slot: 'urlencoded' },
  { what: 'GET call (disabled)', method: 'GET', type: '', call: { method: 'echo', params: ['q'], id: 24 }, slot: 'query' },
  {
    what: 'json call binding an upload with a wrong token',
    type: 'application/json',
    call: { method: 'digest', params: [{ $upload: `${RPC_PATH}/uploads/0123456789abcdef0123456789abcdef`, token: 'AAAA' }], id: 25 },
    slot: 'body'
  }
]

/** Requests to the tus endpoint (PROTOCOL.md section 11.1): what a tus client sends, before mutation. */
interface TusSeed {
  what: string
  method: string
  /** Below `/rpc/uploads`. */
  path: string
  headers: Array<[string, string]>
  body: Buffer
}

const UNKNOWN_UPLOAD = '/0123456789abcdef0123456789abcdef'
const METADATA = `filename ${Buffer.from('a.bin').toString('base64')},filetype ${Buffer.from('application/octet-stream').toString('base64')}`
const TUS: readonly TusSeed[] = [
  { what: 'tus creation', method: 'POST', path: '/', headers: [['Tus-Resumable', '1.0.0'], ['Upload-Length', '300'], ['Upload-Metadata', METADATA]], body: Buffer.alloc(0) },
  {
    what: 'tus creation with upload',
    method: 'POST',
    path: '/',
    headers: [['Tus-Resumable', '1.0.0'], ['Upload-Length', '300'], ['Content-Type', 'application/offset+octet-stream']],
    body: bytes(300, 5)
  },
  { what: 'tus deferred length', method: 'POST', path: '/', headers: [['Tus-Resumable', '1.0.0'], ['Upload-Defer-Length', '1']], body: Buffer.alloc(0) },
  {
    what: 'tus PATCH of an unknown upload',
    method: 'PATCH',
    path: UNKNOWN_UPLOAD,
    headers: [['Tus-Resumable', '1.0.0'], ['Upload-Offset', '0'], ['Content-Type', 'application/offset+octet-stream']],
    body: bytes(100, 6)
  },
  { what: 'tus HEAD', method: 'HEAD', path: UNKNOWN_UPLOAD, headers: [['Tus-Resumable', '1.0.0']], body: Buffer.alloc(0) },
  { what: 'tus DELETE', method: 'DELETE', path: UNKNOWN_UPLOAD, headers: [['Tus-Resumable', '1.0.0']], body: Buffer.alloc(0) },
  { what: 'tus discovery', method: 'OPTIONS', path: '/', headers: [], body: Buffer.alloc(0) }
]

/** Every corpus entry as a fresh draft (the mutators change drafts in place). */
export function corpus (): Draft[] {
  const drafts: Draft[] = []
  for (const seed of MULTIPART) {
    drafts.push({
      seed: seed.what,
      method: 'POST',
      target: RPC_PATH,
      version: 'HTTP/1.1',
      headers: [['Host', '127.0.0.1'], ['Content-Type', `multipart/form-data; boundary=${BOUNDARY}`], ['Connection', 'close']],
      callText: JSON.stringify(seed.call),
      callSlot: 'part',
      multipart: {
        delimiter: BOUNDARY,
        // Copies: the mutators change parts in place, and the next case must start from the seed as written.
        parts: [
          { headers: [...(seed.callHeaders ?? ['Content-Disposition: form-data; name="json"'])], content: Buffer.alloc(0) },
          ...seed.parts.map((part) => ({ headers: [...part.headers], content: Buffer.from(part.content) }))
        ],
        preamble: Buffer.alloc(0),
        closing: Buffer.from(`--${BOUNDARY}--\r\n`),
        eol: '\r\n'
      },
      body: Buffer.alloc(0),
      framing: { kind: 'length' },
      endWrite: false,
      pieces: 1
    })
  }
  for (const seed of BODIES) {
    const headers: Array<[string, string]> = [['Host', '127.0.0.1']]
    if (seed.type !== '') headers.push(['Content-Type', seed.type])
    headers.push(['Connection', 'close'])
    drafts.push({
      seed: seed.what,
      method: seed.method ?? 'POST',
      target: RPC_PATH,
      version: 'HTTP/1.1',
      headers,
      callText: JSON.stringify(seed.call),
      callSlot: seed.slot,
      multipart: undefined,
      body: Buffer.alloc(0),
      framing: seed.slot === 'query' ? { kind: 'none' } : { kind: 'length' },
      endWrite: false,
      pieces: 1
    })
  }
  for (const seed of TUS) {
    drafts.push({
      seed: seed.what,
      method: seed.method,
      target: `${RPC_PATH}/uploads${seed.path}`,
      version: 'HTTP/1.1',
      headers: [['Host', '127.0.0.1'], ...seed.headers.map(([name, value]): [string, string] => [name, value]), ['Connection', 'close']],
      callText: undefined,
      callSlot: 'body',
      multipart: undefined,
      body: Buffer.from(seed.body),
      framing: { kind: 'length' },
      endWrite: false,
      pieces: 1
    })
  }
  return drafts
}

/** The number of corpus entries. */
export const CORPUS_SIZE = MULTIPART.length + BODIES.length + TUS.length
