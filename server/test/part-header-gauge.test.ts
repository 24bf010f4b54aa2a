import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Busboy } from '@fastify/busboy'
import { PartHeaderGauge, boundaryOf } from '../src/parse/part-header-gauge.js'

const BOUNDARY = 'gauge-boundary'
const MAX = 100

/** A part's header block: its header lines, each with its CRLF, which is what partHeaderSize counts. */
function headerLines (name: string, filename?: string, type?: string): string {
  return `Content-Disposition: form-data; name="${name}"` + (filename === undefined ? '' : `; filename="${filename}"`) + '\r\n' +
    (type === undefined ? '' : `Content-Type: ${type}\r\n`)
}

/** A filename that makes the block of a part named `name` (with type text/plain, unless for `json`) exactly `size` bytes. */
function filenameFor (size: number, name = 'f'): string {
  const type = name === 'json' ? undefined : 'text/plain'
  const filename = 'x'.repeat(size - headerLines(name, '', type).length)
  assert.equal(headerLines(name, filename, type).length, size)
  return filename
}

const part = (lines: string, content: string): string => `--${BOUNDARY}\r\n${lines}\r\n${content}\r\n`
const close = `--${BOUNDARY}--\r\n`
const json = part(headerLines('json'), '{"method":"echo"}')

/** Each row: a body, and what the gauge must find in it however the body is split into chunks. */
const rows: Array<{ what: string, body: string, completed: number, exceeded?: number }> = [
  { what: 'headers of exactly the limit pass', body: json + part(headerLines('f', filenameFor(MAX), 'text/plain'), 'abc') + close, completed: 2 },
  { what: 'headers one byte over the limit are caught, with the part\'s number', body: json + part(headerLines('f', filenameFor(MAX + 1), 'text/plain'), 'abc') + close, completed: 2, exceeded: 2 },
  { what: 'the json part\'s headers count too', body: part(headerLines('json', filenameFor(MAX + 1, 'json')), '{}') + close, completed: 1, exceeded: 1 },
  { what: 'a preamble before the first delimiter is not a part', body: 'preamble\r\n\r\nmore\r\n' + json + close, completed: 1 },
  { what: 'an epilogue after the closing delimiter is not a part', body: json + close + `${'x'.repeat(500)}\r\n\r\n--${BOUNDARY}\r\n${'y'.repeat(500)}`, completed: 1 },
  {
    what: 'content holding CRLFCRLF, partial delimiters and the boundary without its CRLF is content',
    body: json + part(headerLines('f', 'f.txt'), `\r\n\r\n\r\n--${BOUNDARY.slice(0, 5)}--${BOUNDARY}x\r\n-`) + close,
    completed: 2
  },
  { what: 'a part with empty content', body: json + part(headerLines('f', 'f.txt'), '') + close, completed: 2 },
  { what: 'a header block cut by a delimiter is not completed, and the next part is measured', body: json + `--${BOUNDARY}\r\n${'h'.repeat(40)}\r\n` + part(headerLines('f', filenameFor(MAX + 1), 'text/plain'), 'a') + close, completed: 2, exceeded: 3 },
  { what: 'a header block running into a delimiter right after its CRLFCRLF is cut, as busboy cuts it', body: json + `--${BOUNDARY}\r\n${headerLines('f', 'f.txt')}\r\n--${BOUNDARY}\r\n${headerLines('g', 'g.txt')}\r\nabc\r\n` + close, completed: 2 },
  { what: 'a header block that never ends is caught once it is past the limit', body: json + `--${BOUNDARY}\r\nX-Long: ${'v'.repeat(3 * MAX)}`, completed: 1, exceeded: 2 },
  { what: 'a header block that never ends but stays within the limit is not caught', body: json + `--${BOUNDARY}\r\nX-Short: ${'v'.repeat(MAX / 2)}`, completed: 1 }
]

/** The body split into chunks: whole, byte by byte, and in two at every position. */
function splits (body: Buffer): Buffer[][] {
  const out: Buffer[][] = [[body], [...body].map((byte) => Buffer.from([byte]))]
  for (let at = 1; at < body.length; at++) out.push([body.subarray(0, at), body.subarray(at)])
  return out
}

function measure (chunks: Buffer[]): { completed: number, exceeded: number | undefined } {
  const gauge = new PartHeaderGauge(BOUNDARY, MAX)
  for (const chunk of chunks) gauge.write(chunk)
  return { completed: gauge.completed, exceeded: gauge.exceeded }
}

/** The parts busboy reports for a body, with a header limit far above every row's. */
async function busboyParts (body: Buffer): Promise<number> {
  return await new Promise((resolve) => {
    let parts = 0
    const busboy = Busboy({
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      isPartAFile: () => true,
      limits: { headerSize: 64 * 1024 }
    })
    busboy.on('file', (_name, stream) => {
      parts++
      stream.on('error', () => {})
      stream.resume()
    })
    busboy.on('error', () => resolve(parts))
    busboy.on('finish', () => resolve(parts))
    busboy.end(body)
  })
}

describe('the part header gauge measures each part\'s header block as busboy delimits it', () => {
  for (const row of rows) {
    it(row.what, async () => {
      const body = Buffer.from(row.body, 'latin1')
      for (const chunks of splits(body)) {
        const found = measure(chunks)
        const where = `chunks of ${chunks.map((chunk) => chunk.length).join('+')} bytes`
        assert.equal(found.exceeded, row.exceeded, `exceeded, ${where}`)
        if (row.exceeded === undefined) assert.equal(found.completed, row.completed, `completed, ${where}`)
      }
      // The gauge and busboy agree on which parts have headers (busboy's own limit is far away here).
      if (row.exceeded === undefined) assert.equal(await busboyParts(body), row.completed)
    })
  }
})

describe('the gauge tells whether the first part is a plain form-data text part, which busboy may read as a field', () => {
  const rows: Array<{ what: string, block: string, plain: boolean }> = [
    { what: 'a name only, as forms and clients send the json part', block: 'Content-Disposition: form-data; name="json"\r\n', plain: true },
    { what: 'a lower-case header with a text/plain type', block: 'content-disposition:form-data; name="json"\r\ncontent-type: text/plain\r\n', plain: true },
    { what: 'a declared charset (busboy would decode in it; the call is UTF-8 whatever it says)', block: 'Content-Disposition: form-data; name="json"\r\nContent-Type: text/plain; charset=iso-8859-1\r\n', plain: false },
    { what: 'a charset in any case', block: 'Content-Disposition: form-data; name="json"\r\nContent-Type: text/plain; CHARSET=utf-16le\r\n', plain: false },
    { what: 'no Content-Disposition (busboy skips the part)', block: 'Content-Type: text/plain\r\n', plain: false },
    { what: 'another disposition (busboy skips the part)', block: 'Content-Disposition: attachment; name="json"\r\n', plain: false },
    { what: 'a bare line feed in the name (busboy skips the part)', block: 'Content-Disposition: form-data; name="js\non"\r\n', plain: false }
  ]
  for (const row of rows) {
    it(`${row.what}: ${row.plain ? 'plain' : 'not plain'}`, () => {
      const body = Buffer.from(part(row.block, '{"method":"echo"}') + close, 'latin1')
      const gauge = new PartHeaderGauge(BOUNDARY, 1000)
      gauge.write(body)
      assert.equal(gauge.firstPartPlain, row.plain)
      assert.equal(gauge.pastFirstPart, true)
    })
  }
  it('a first header block split across chunks is not known to be plain, so the part stays a stream', () => {
    const body = Buffer.from(json + close, 'latin1')
    const gauge = new PartHeaderGauge(BOUNDARY, 1000)
    gauge.write(body.subarray(0, 30))
    assert.equal(gauge.pastFirstPart, false)
    gauge.write(body.subarray(30))
    assert.equal(gauge.firstPartPlain, false)
  })
})

describe('boundaryOf reads the boundary parameter as busboy does', () => {
  const cases: Array<[string | undefined, string | undefined]> = [
    ['multipart/form-data; boundary=abc', 'abc'],
    ['multipart/form-data;boundary=abc;charset=utf-8', 'abc'],
    ['multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundaryX', '----WebKitFormBoundaryX'],
    ['multipart/form-data; BOUNDARY="a b\\"c"', 'a b"c'],
    ['multipart/form-data; boundary = spaced ', 'spaced'],
    ['multipart/form-data', undefined],
    ['multipart/form-data; boundary=', undefined],
    [undefined, undefined]
  ]
  for (const [header, boundary] of cases) {
    it(`${String(header)} → ${String(boundary)}`, () => assert.equal(boundaryOf(header), boundary))
  }
})
