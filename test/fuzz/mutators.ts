/**
 * The mutators, as a table (busboy's table-driven style): each row names what it breaks, what structure it needs,
 * and how. A case applies one or more rows to a corpus entry; rows that need structure a previous byte-level row
 * flattened away are skipped.
 */
import { flatten, type ChunkBreakage, type Draft, type Part } from './draft.js'
import type { Rng } from './prng.js'

/** One row of the table. */
export interface Mutator {
  readonly name: string
  /** What the draft must still have: multipart parts, the call's JSON text, or nothing (works on bytes/headers). */
  readonly needs: 'multipart' | 'call' | 'any'
  readonly apply: (draft: Draft, rng: Rng) => void
}

/** Byte strings that tend to matter to a multipart or JSON parser. */
const TOKENS = ['\r\n', '\r\n\r\n', '\n', '\r', '--', '"', '\\', '\u0000', ';', '=', ':', '{', '}', '[', ']', ',', '\u00ff',
  '\ufeff', '%', '+', '&', '__file__:', '{"$file":"f"}', 'Content-Disposition: form-data; name="json"\r\n\r\n']

function interesting (draft: Draft, rng: Rng): Buffer {
  const delimiter = draft.multipart?.delimiter ?? boundaryOf(draft) ?? 'x'
  const choices = [...TOKENS, `\r\n--${delimiter}`, `\r\n--${delimiter}\r\n`, `\r\n--${delimiter}--`, `--${delimiter}`]
  return Buffer.from(rng.pick(choices), 'latin1')
}

function boundaryOf (draft: Draft): string | undefined {
  return /boundary=([^;]*)/i.exec(getHeader(draft, 'content-type') ?? '')?.[1]
}

function getHeader (draft: Draft, name: string): string | undefined {
  return draft.headers.find(([key]) => key.toLowerCase() === name)?.[1]
}

function setHeader (draft: Draft, name: string, value: string | undefined): void {
  const at = draft.headers.findIndex(([key]) => key.toLowerCase() === name.toLowerCase())
  if (value === undefined) {
    if (at >= 0) draft.headers.splice(at, 1)
  } else if (at >= 0) {
    draft.headers[at] = [draft.headers[at]?.[0] ?? name, value]
  } else {
    draft.headers.push([name, value])
  }
}

function bytesOf (draft: Draft): Buffer {
  flatten(draft)
  return draft.body
}

function randomPart (draft: Draft, rng: Rng): Part | undefined {
  const parts = draft.multipart?.parts ?? []
  return parts.length === 0 ? undefined : rng.pick(parts)
}

/** Replaces a part's Content-Disposition line (adds one when it has none). */
function setDisposition (part: Part, line: string | undefined): void {
  const at = part.headers.findIndex((header) => /^content-disposition/i.test(header))
  if (line === undefined) {
    if (at >= 0) part.headers.splice(at, 1)
  } else if (at >= 0) part.headers[at] = line
  else part.headers.unshift(line)
}

function nameOf (part: Part): string {
  return /name="([^"]*)"/.exec(part.headers.join('\n'))?.[1] ?? 'f'
}

/** A JSON value of every type, for params, ids and methods. */
function anyJson (rng: Rng): unknown {
  return rng.pick<() => unknown>([
    () => null, () => true, () => false, () => 0, () => -1, () => 1.5, () => 1e308, () => '', () => 'x',
    () => [], () => ({}), () => [null], () => ({ $file: 'f' }), () => ({ $files: 'docs' }), () => '__file__:x1',
    () => 'a'.repeat(rng.size(100_000)), () => ({ a: { b: { c: [1, 2, 3] } } })
  ])()
}

/** Applies `change` to the parsed call (or each call of a batch); leaves text that is not JSON as it is. */
function editCall (draft: Draft, change: (call: Record<string, unknown>) => void, rng: Rng): void {
  let value: unknown
  try {
    value = JSON.parse(draft.callText ?? '')
  } catch {
    return
  }
  const calls = Array.isArray(value) ? value : [value]
  const target = calls.length === 0 ? undefined : rng.pick(calls)
  if (typeof target === 'object' && target !== null && !Array.isArray(target)) change(target as Record<string, unknown>)
  try {
    draft.callText = JSON.stringify(value)
  } catch {
    // Nested deeper than this process' stack (a 'deep nesting' row ran first): keep the text as it was.
  }
}

/** Part names the corpus' calls refer to (so placeholder mutations sometimes hit a real part). */
function partNames (draft: Draft): string[] {
  return [...new Set([...(draft.multipart?.parts.slice(1).map(nameOf) ?? []), 'f', 'docs', 'missing', ''])]
}

const CHUNK_BREAKAGES: readonly ChunkBreakage[] = ['none', 'bad-size', 'no-last-chunk', 'size-too-big', 'extension', 'no-crlf', 'with-length']

export const MUTATORS: readonly Mutator[] = [
  // --- bytes of the body ---
  {
    name: 'flip bits',
    needs: 'any',
    apply: (draft, rng) => {
      const body = Buffer.from(bytesOf(draft))
      for (let n = rng.range(1, 8); n > 0 && body.length > 0; n--) {
        const at = rng.int(body.length)
        body[at] = (body[at] as number) ^ (1 << rng.int(8))
      }
      draft.body = body
    }
  },
  {
    name: 'insert bytes',
    needs: 'any',
    apply: (draft, rng) => {
      const body = bytesOf(draft)
      const at = rng.int(body.length + 1)
      const insert = rng.chance(0.5) ? rng.bytes(rng.size(64)) : interesting(draft, rng)
      draft.body = Buffer.concat([body.subarray(0, at), insert, body.subarray(at)])
    }
  },
  {
    name: 'delete bytes',
    needs: 'any',
    apply: (draft, rng) => {
      const body = bytesOf(draft)
      const at = rng.int(body.length + 1)
      draft.body = Buffer.concat([body.subarray(0, at), body.subarray(at + rng.size(body.length + 1))])
    }
  },
  {
    name: 'truncate',
    needs: 'any',
    apply: (draft, rng) => {
      const body = bytesOf(draft)
      draft.body = body.subarray(0, rng.int(body.length + 1))
    }
  },
  {
    name: 'duplicate a byte range',
    needs: 'any',
    apply: (draft, rng) => {
      const body = bytesOf(draft)
      const start = rng.int(body.length + 1)
      const piece = body.subarray(start, start + rng.size(4096))
      const at = rng.int(body.length + 1)
      draft.body = Buffer.concat([body.subarray(0, at), piece, body.subarray(at)])
    }
  },
  {
    name: 'replace the body with random bytes',
    needs: 'any',
    apply: (draft, rng) => {
      flatten(draft)
      draft.body = rng.bytes(rng.size(20_000))
    }
  },

  // --- multipart framing ---
  {
    name: 'duplicate a part',
    needs: 'multipart',
    apply: (draft, rng) => {
      const parts = draft.multipart?.parts ?? []
      const part = randomPart(draft, rng)
      if (part === undefined) return
      parts.splice(rng.int(parts.length + 1), 0, { headers: [...part.headers], content: part.content })
    }
  },
  {
    name: 'remove a part',
    needs: 'multipart',
    apply: (draft, rng) => {
      const parts = draft.multipart?.parts ?? []
      if (parts.length > 0) {
        const at = rng.int(parts.length)
        if (at === 0 && draft.callSlot === 'part') flatten(draft)
        else parts.splice(at, 1)
      }
    }
  },
  {
    name: 'move the json part',
    needs: 'multipart',
    apply: (draft, rng) => {
      flatten(draft)
      // Rebuilt with json not first: parse the structure again is not needed; swap at the byte level instead.
      const body = draft.body
      const delimiter = Buffer.from(`--${boundaryOf(draft) ?? ''}`)
      const second = body.indexOf(delimiter, delimiter.length)
      const third = second < 0 ? -1 : body.indexOf(delimiter, second + delimiter.length)
      if (second < 0 || third < 0) return
      draft.body = Buffer.concat([body.subarray(second, third), body.subarray(0, second), body.subarray(third)])
      void rng
    }
  },
  {
    name: 'no closing delimiter',
    needs: 'multipart',
    apply: (draft, rng) => {
      const shape = draft.multipart
      if (shape === undefined) return
      shape.closing = Buffer.from(rng.pick(['', `--${shape.delimiter}`, `--${shape.delimiter}-`, `--${shape.delimiter}\r\n`]))
    }
  },
  {
    name: 'boundary inside data',
    needs: 'multipart',
    apply: (draft, rng) => {
      const part = randomPart(draft, rng)
      const shape = draft.multipart
      if (part === undefined || shape === undefined) return
      const at = rng.int(part.content.length + 1)
      const fake = Buffer.from(rng.pick([`\r\n--${shape.delimiter}`, `\r\n--${shape.delimiter}\r\n`, `\r\n--${shape.delimiter}--\r\n`,
        `--${shape.delimiter}`, `\r\n--${shape.delimiter.slice(0, -1)}`, `\r\n--${shape.delimiter}\r\nContent-Disposition: form-data; name="f"\r\n\r\n`]))
      part.content = Buffer.concat([part.content.subarray(0, at), fake, part.content.subarray(at)])
    }
  },
  {
    name: 'wrong boundary in the header',
    needs: 'multipart',
    apply: (draft, rng) => {
      const shape = draft.multipart
      if (shape === undefined) return
      setHeader(draft, 'Content-Type', `multipart/form-data; boundary=${rng.pick([shape.delimiter.slice(1), shape.delimiter + 'x', 'other', shape.delimiter.toUpperCase()])}`)
    }
  },
  {
    name: 'long boundary',
    needs: 'multipart',
    apply: (draft, rng) => {
      const shape = draft.multipart
      if (shape === undefined) return
      const boundary = 'B'.repeat(rng.pick([70, 71, 200, 1000, 5000, 15_000]))
      setHeader(draft, 'Content-Type', `multipart/form-data; boundary=${boundary}`)
      if (rng.chance(0.7)) {
        shape.delimiter = boundary
        shape.closing = Buffer.from(`--${boundary}--\r\n`)
      }
    }
  },
  {
    name: 'odd boundary parameter',
    needs: 'multipart',
    apply: (draft, rng) => {
      const shape = draft.multipart
      if (shape === undefined) return
      const b = shape.delimiter
      setHeader(draft, 'Content-Type', rng.pick([
        'multipart/form-data', 'multipart/form-data;', 'multipart/form-data; boundary=', 'multipart/form-data; boundary=""',
        `multipart/form-data; boundary="${b}"`, `multipart/form-data; boundary="${b}`, `multipart/form-data; boundary=${b}; boundary=other`,
        `multipart/form-data;boundary=${b};charset=utf-8`, `MULTIPART/FORM-DATA; BOUNDARY=${b}`, `multipart/form-data; boundary*=UTF-8''${b}`,
        `multipart/form-data; boundary=${b}\u0000`, `multipart/form-data; boundary=a b`, `multipart/mixed; boundary=${b}`,
        `multipart/form-data ; boundary = ${b}`, `multipart/form-data; boundary=${b}`.repeat(20)
      ]))
    }
  },
  {
    name: 'bare LF line breaks',
    needs: 'multipart',
    apply: (draft) => {
      if (draft.multipart !== undefined) draft.multipart.eol = '\n'
    }
  },
  {
    name: 'preamble and epilogue',
    needs: 'multipart',
    apply: (draft, rng) => {
      const shape = draft.multipart
      if (shape === undefined) return
      if (rng.chance(0.5)) shape.preamble = Buffer.from(rng.pick(['\r\n', 'preamble text\r\n', `--${shape.delimiter}x\r\n`, '\u0000'.repeat(100)]))
      else shape.closing = Buffer.concat([shape.closing, Buffer.from(rng.pick(['epilogue', `--${shape.delimiter}\r\n\r\n`, '\r\n'.repeat(50)]))])
    }
  },
  {
    name: 'mangle Content-Disposition',
    needs: 'multipart',
    apply: (draft, rng) => {
      const part = randomPart(draft, rng)
      if (part === undefined) return
      const name = nameOf(part)
      setDisposition(part, rng.pick([
        undefined,
        'Content-Disposition: form-data',
        'Content-Disposition: form-data; name=""',
        'Content-Disposition: form-data; name=',
        'Content-Disposition: form-data; name',
        `Content-Disposition: form-data; name="${name}`,
        `Content-Disposition: form-data; name=${name}"`,
        `Content-Disposition: form-data; name="${name}\\"; x="`,
        `Content-Disposition: form-data; name*=UTF-8''${encodeURIComponent(name)}`,
        `Content-Disposition: form-data; name*=UTF-8''%ZZ%`,
        `Content-Disposition: form-data; name="${name}\u0000"`,
        `Content-Disposition: form-data; name="${name}\r\nContent-Type: text/html"`,
        `Content-Disposition: form-data; name="${name}\r\n\r\n"`,
        `Content-Disposition: form-data; name="${name}\r"`,
        `Content-Disposition: form-data; name="${'n'.repeat(rng.pick([1023, 1025, 5000, 70_000, 100_000]))}"`,
        `Content-Disposition: form-data; name="${name}"; filename="${'f'.repeat(rng.size(100_000))}"`,
        `Content-Disposition: form-data; name="${name}"; filename="../../etc/passwd"`,
        `Content-Disposition: form-data; name="${name}"; filename*=UTF-8''%E2%82%AC.txt`,
        `Content-Disposition: form-data; name="${name}"; filename=""`,
        `Content-Disposition: form-data; name="${name}"; name="other"`,
        `Content-Disposition: attachment; name="${name}"`,
        `content-disposition:form-data;name="${name}"`,
        `Content-Disposition: form-data; name="${name}"; ${'x=1; '.repeat(rng.size(5000))}`,
        'Content-Disposition: ;;;;;',
        `Content-Disposition form-data; name="${name}"`,
        `Content-Disposition: form-data; name="\u00e9\u00ff${name}"`
      ]))
    }
  },
  {
    name: 'mangle a part Content-Type',
    needs: 'multipart',
    apply: (draft, rng) => {
      const part = randomPart(draft, rng)
      if (part === undefined) return
      part.headers = part.headers.filter((line) => !/^content-type/i.test(line))
      const type = rng.pick([undefined, '', 'text/plain; charset=bogus', 'application/json', 'multipart/mixed; boundary=inner',
        'x'.repeat(rng.size(20_000)), 'text/plain\u0000', '/', ';;;', 'image/png; name="a.png"'])
      if (type !== undefined) part.headers.push(`Content-Type: ${type}`)
    }
  },
  {
    name: 'mangle part headers',
    needs: 'multipart',
    apply: (draft, rng) => {
      const part = randomPart(draft, rng)
      if (part === undefined) return
      const extra = rng.pick([
        () => ['no colon in this line'],
        () => [' folded continuation line'],
        () => [`X-Big: ${'h'.repeat(rng.pick([100, 9000, 90_000]))}`],
        () => Array.from({ length: rng.pick([10, 100, 3000]) }, (_, i) => `X-H${i}: v`),
        () => ['Content-Transfer-Encoding: base64'],
        () => [':'],
        () => ['']
      ])()
      part.headers.splice(rng.int(part.headers.length + 1), 0, ...extra)
    }
  },
  {
    name: 'resize a part',
    needs: 'multipart',
    apply: (draft, rng) => {
      const part = randomPart(draft, rng)
      if (part === undefined || (part === draft.multipart?.parts[0] && draft.callSlot === 'part')) return
      part.content = rng.chance(0.3) ? Buffer.alloc(0) : Buffer.alloc(rng.pick([16 * 1024, 65 * 1024, 300 * 1024, 1024 * 1024]), 0x61)
    }
  },
  {
    name: 'many parts',
    needs: 'multipart',
    apply: (draft, rng) => {
      const parts = draft.multipart?.parts
      if (parts === undefined) return
      const file = rng.chance(0.5)
      for (let i = rng.pick([5, 20, 40, 200]); i > 0; i--) {
        parts.push({
          headers: [`Content-Disposition: form-data; name="${rng.pick(['docs', 'f', `p${i}`])}"${file ? `; filename="${i}.bin"` : ''}`],
          content: Buffer.from(String(i))
        })
      }
    }
  },

  // --- the request head ---
  {
    name: 'mangle the request Content-Type',
    needs: 'any',
    apply: (draft, rng) => {
      setHeader(draft, 'Content-Type', rng.pick([undefined, '', 'text/plain', 'application/json', 'application/json; charset=latin1',
        'APPLICATION/JSON', 'application/x-www-form-urlencoded', `multipart/form-data; boundary=${boundaryOf(draft) ?? 'x'}`,
        'application/octet-stream', '*/*', 'application/json\u0000', 'application/jsonx', 'multipart/form-data',
        'application/csp-report', 'x'.repeat(rng.size(10_000))]))
    }
  },
  {
    name: 'duplicate Content-Type',
    needs: 'any',
    apply: (draft, rng) => {
      const other = rng.pick(['application/json', 'text/plain', `multipart/form-data; boundary=${boundaryOf(draft) ?? 'x'}`, 'application/x-www-form-urlencoded'])
      draft.headers.splice(rng.int(draft.headers.length + 1), 0, ['Content-Type', other])
    }
  },
  {
    name: 'big or many headers',
    needs: 'any',
    apply: (draft, rng) => {
      if (rng.chance(0.5)) draft.headers.push(['X-Fuzz', 'v'.repeat(rng.pick([1000, 8000, 16_000, 17_000, 64_000]))])
      else for (let i = rng.pick([50, 500, 2100]); i > 0; i--) draft.headers.push([`X-Fuzz-${i}`, 'v'])
    }
  },
  {
    name: 'odd request headers',
    needs: 'any',
    apply: (draft, rng) => {
      const [name, value] = rng.pick<[string, string]>([
        ['Expect', '100-continue'], ['Expect', 'bogus'], ['Content-Encoding', 'gzip'], ['Content-Encoding', 'br, identity'],
        ['Origin', 'https://evil.example'], ['Origin', 'null'], ['Sec-Fetch-Site', 'cross-site'], ['Host', 'evil.example'],
        ['Connection', 'keep-alive'], ['Connection', 'upgrade'], ['Upgrade', 'websocket'], ['X-Null', 'a\u0000b'],
        ['Bad Name', 'x'], ['Host', ''], ['Transfer-Encoding', 'identity'], ['Content-Type', 'multipart/form-data; boundary=\u00ff\u00fe']
      ])
      if (name === 'Host' || name === 'Connection') setHeader(draft, name, value)
      else draft.headers.push([name, value])
    }
  },
  {
    name: 'Content-Length lies',
    needs: 'any',
    apply: (draft, rng) => {
      if (rng.chance(0.7)) {
        draft.framing = { kind: 'length-lie', delta: rng.pick([-1, -10, -1000, 1, 10, 100_000]) }
      } else {
        draft.framing = { kind: 'length-raw', value: rng.pick(['-1', 'abc', '1e3', '10, 20', ' 5', '99999999999999999999', '0x10', '']) }
      }
    }
  },
  {
    name: 'no Content-Length',
    needs: 'any',
    apply: (draft) => { draft.framing = { kind: 'none' } }
  },
  {
    name: 'chunked encoding',
    needs: 'any',
    apply: (draft, rng) => {
      draft.framing = { kind: 'chunked', chunk: rng.pick([1, 7, 100, 4096, 1 << 20]), breakage: rng.pick(CHUNK_BREAKAGES) }
    }
  },
  {
    name: 'another HTTP method or target',
    needs: 'any',
    apply: (draft, rng) => {
      if (rng.chance(0.5)) draft.method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'CONNECT', 'FOO', 'post'])
      else {
        draft.target = rng.pick(['/rpc/', '/RPC', '//rpc', '/rpc?x=1', '/rpc?json=%7B', '/rpc%00', '/rpc#x', '*', '/', '/other',
          `/rpc?${'q'.repeat(rng.pick([100, 20_000]))}`, '/rpc/../rpc', 'http://127.0.0.1/rpc'])
      }
    }
  },
  {
    name: 'another HTTP version',
    needs: 'any',
    apply: (draft, rng) => { draft.version = rng.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 extra']) }
  },
  {
    name: 'write in pieces',
    needs: 'any',
    apply: (draft, rng) => { draft.pieces = rng.range(2, 6) }
  },
  {
    // Node's HTTP server treats a client's FIN as the client going away (httpAllowHalfOpen is off): the call is
    // aborted, and an answer not sent yet is never sent. Real clients do not half-close; this checks nothing breaks.
    name: 'half-close after the body',
    needs: 'any',
    apply: (draft) => { draft.endWrite = true }
  },

  // --- the call's JSON ---
  {
    name: 'deep nesting',
    needs: 'call',
    apply: (draft, rng) => {
      const depth = rng.pick([100, 257, 1000, 10_000, 100_000])
      const [open, close] = rng.pick([['[', ']'], ['{"a":', '}']])
      const inner = rng.chance(0.5) ? '{"$file":"f"}' : '1'
      const nested = open.repeat(depth) + inner + close.repeat(depth)
      draft.callText = rng.pick([`{"method":"echo","params":[${nested}],"id":1}`, `{"method":"digest","params":${'['.repeat(depth)}${']'.repeat(depth)}}`,
        `{"method":"echo","params":{"x":${nested}},"id":${nested}}`, nested])
    }
  },
  {
    name: 'huge numbers',
    needs: 'call',
    apply: (draft, rng) => {
      const number = rng.pick(['1e400', '-1e400', '123456789012345678901234567890', '1e-400', '-0', '0.' + '1'.repeat(5000), '9'.repeat(10_000)])
      draft.callText = rng.pick([`{"method":"echo","params":[${number}],"id":${number}}`, `{"method":"echo","params":{"n":${number}}}`,
        `{"method":"echo","params":[1],"id":${number}}`])
    }
  },
  {
    name: 'prototype keys',
    needs: 'call',
    apply: (draft, rng) => {
      const text = draft.callText ?? '{}'
      const injected = rng.pick(['"__proto__":{"polluted":true}', '"constructor":{"prototype":{"polluted":true}}', '"__proto__":null',
        '"hasOwnProperty":1', '"toString":"x"'])
      draft.callText = rng.pick([
        text.replace(/^\{/, `{${injected},`),
        `{"method":"echo","params":[{${injected}}],"id":1}`,
        `{"method":"echo","params":{${injected}},"id":1}`,
        `{"method":"digest","params":[{"$file":"f",${injected}}]}`
      ])
    }
  },
  {
    name: 'method names',
    needs: 'call',
    apply: (draft, rng) => {
      editCall(draft, (call) => {
        call.method = rng.pick<unknown>(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'echo.constructor', 'echo.call',
          '__defineGetter__', 'a..b', '.', '', 'echo.', '.echo', 'ECHO', 'nested', 'nested.ok', 'nested.ok.x', 'no.such', 'x'.repeat(10_000),
          'echo\u0000', 1, null, true, [], {}, ['echo']])
        if (rng.chance(0.1)) delete call.method
      }, rng)
    }
  },
  {
    name: 'params of every JSON type',
    needs: 'call',
    apply: (draft, rng) => {
      editCall(draft, (call) => {
        if (rng.chance(0.2)) delete call.params
        else call.params = rng.chance(0.5) ? anyJson(rng) : [anyJson(rng), anyJson(rng)]
      }, rng)
    }
  },
  {
    name: 'id and jsonrpc members',
    needs: 'call',
    apply: (draft, rng) => {
      editCall(draft, (call) => {
        if (rng.chance(0.5)) {
          const id = anyJson(rng)
          if (rng.chance(0.2)) delete call.id
          else call.id = id
        } else {
          call.jsonrpc = rng.pick<unknown>(['2.0', '1.0', 2, null, ''])
          if (rng.chance(0.5)) delete call.id
        }
        if (rng.chance(0.2)) call.pmhparams = anyJson(rng)
      }, rng)
    }
  },
  {
    name: 'placeholders pointing anywhere',
    needs: 'call',
    apply: (draft, rng) => {
      const names = partNames(draft)
      const name = rng.pick(names)
      const placeholder = rng.pick<unknown>([{ $file: name }, { $files: name }, `__file__:${name}`, '__file__:', { $file: '' },
        { $file: 1 }, { $file: name, x: 1 }, { $files: null }, { $file: { $file: name } }])
      editCall(draft, (call) => {
        const params = Array.isArray(call.params) ? call.params : []
        params.splice(rng.int(params.length + 1), 0, placeholder)
        if (rng.chance(0.3)) params.push({ $file: name }, { $files: name })
        if (rng.chance(0.3)) params.push(placeholder, placeholder)
        call.params = params
      }, rng)
    }
  },
  {
    name: 'broken JSON text',
    needs: 'call',
    apply: (draft, rng) => {
      const text = draft.callText ?? ''
      draft.callText = rng.pick([
        () => text.slice(0, rng.int(text.length + 1)),
        () => text + rng.pick([',', '}', ' x', '\u0000', '\n{"method":"echo"}']),
        () => '\ufeff' + text,
        () => text.replace('"method"', '"method":"echo","method"'),
        () => text.replace(/"/, "'"),
        () => text.replace(/:/, ':\u0001'),
        () => Buffer.from([0xc3, 0x28, 0xff, 0xfe]).toString('latin1') + text,
        () => rng.pick(['', 'null', '0', '"str"', 'true', '[]', '[[]]', '[1,2]', '{}', '{"method":"echo"}'.repeat(2)])
      ])()
    }
  },
  {
    name: 'batches',
    needs: 'call',
    apply: (draft, rng) => {
      const one = draft.callText ?? '{}'
      draft.callText = rng.pick([
        () => '[]',
        () => `[${Array.from({ length: rng.pick([2, 10, 11, 100, 1000]) }, () => one).join(',')}]`,
        () => `[${one},1,null,"x",[${one}]]`,
        () => `[[${one}]]`,
        () => `[${one},{"jsonrpc":"2.0","method":"echo"}]`,
        () => `[{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"raise"}]`
      ])()
    }
  },
  {
    name: 'urlencoded fields',
    needs: 'call',
    apply: (draft, rng) => {
      if (draft.callSlot !== 'urlencoded') return
      const text = encodeURIComponent(draft.callText ?? '')
      flatten(draft)
      draft.body = Buffer.from(rng.pick([`JSON=${text}`, `json=${text}&json=x`, `x=1&json=${text}`, 'json=%zz%', `json=${draft.callText ?? ''}`,
        'json', '=', '&&&', `json=${text}&${'a=b&'.repeat(rng.size(20_000))}`]))
    }
  }
]

/** The table row with this name. */
export function mutatorNamed (name: string): Mutator {
  const found = MUTATORS.find((mutator) => mutator.name === name)
  if (found === undefined) throw new Error(`no mutator "${name}"`)
  return found
}
