import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Busboy } from '@fastify/busboy'
import { PartHeaderMeter } from '../src/parse/part-header-meter.js'

const BOUNDARY = 'meter-boundary'
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

/** Each row: a body, and what the meter must find in it however the body is split into chunks. */
const rows: Array<{ what: string, body: string, reported: number, exceeded?: number }> = [
  { what: 'headers of exactly the limit pass', body: json + part(headerLines('f', filenameFor(MAX), 'text/plain'), 'abc') + close, reported: 2 },
  { what: 'headers one byte over the limit are caught, with the part\'s number', body: json + part(headerLines('f', filenameFor(MAX + 1), 'text/plain'), 'abc') + close, reported: 2, exceeded: 2 },
  { what: 'the json part\'s headers count too', body: part(headerLines('json', filenameFor(MAX + 1, 'json')), '{}') + close, reported: 1, exceeded: 1 },
  { what: 'a preamble before the first delimiter is not a part', body: 'preamble\r\n\r\nmore\r\n' + json + close, reported: 1 },
  { what: 'an epilogue after the closing delimiter is not a part', body: json + close + `${'x'.repeat(500)}\r\n\r\n--${BOUNDARY}\r\n${'y'.repeat(500)}`, reported: 1 },
  {
    what: 'content holding CRLFCRLF, partial delimiters and the boundary without its CRLF is content',
    body: json + part(headerLines('f', 'f.txt'), `\r\n\r\n\r\n--${BOUNDARY.slice(0, 5)}--${BOUNDARY}x\r\n-`) + close,
    reported: 2
  },
  { what: 'a part with empty content', body: json + part(headerLines('f', 'f.txt'), '') + close, reported: 2 },
  { what: 'a header block cut by a delimiter is not reported, and the next part is measured', body: json + `--${BOUNDARY}\r\n${'h'.repeat(40)}\r\n` + part(headerLines('f', filenameFor(MAX + 1), 'text/plain'), 'a') + close, reported: 2, exceeded: 3 },
  { what: 'a header block running into a delimiter right after its CRLFCRLF is cut, as busboy cuts it', body: json + `--${BOUNDARY}\r\n${headerLines('f', 'f.txt')}\r\n--${BOUNDARY}\r\n${headerLines('g', 'g.txt')}\r\nabc\r\n` + close, reported: 2 },
  { what: 'a header block that never ends is caught once it is past the limit', body: json + `--${BOUNDARY}\r\nX-Long: ${'v'.repeat(3 * MAX)}`, reported: 1, exceeded: 2 },
  { what: 'a header block that never ends but stays within the limit is not caught', body: json + `--${BOUNDARY}\r\nX-Short: ${'v'.repeat(MAX / 2)}`, reported: 1 }
]

/** The body split into chunks: whole, byte by byte, and in two at every position. */
function splits (body: Buffer): Buffer[][] {
  const out: Buffer[][] = [[body], [...body].map((byte) => Buffer.from([byte]))]
  for (let at = 1; at < body.length; at++) out.push([body.subarray(0, at), body.subarray(at)])
  return out
}

/** Feeds the chunks to busboy with a meter on it: the parts busboy reported, and what the meter found after each chunk. */
async function measure (chunks: Buffer[], max = MAX): Promise<{ reported: number, exceeded: number | undefined, firstPartPlain: boolean }> {
  const busboy = Busboy({
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    isPartAFile: () => true,
    limits: { headerSize: PartHeaderMeter.busboyHeaderSize(max) }
  })
  const meter = new PartHeaderMeter(busboy, max)
  let reported = 0
  let exceeded: number | undefined
  busboy.on('file', (_name, stream) => {
    reported++
    stream.on('error', () => {})
    stream.resume()
  })
  const done = new Promise<void>((resolve) => {
    busboy.on('error', () => resolve())
    busboy.on('finish', () => resolve())
  })
  for (const chunk of chunks) {
    busboy.write(chunk)
    // Once known, a block over the limit stays the one reported.
    if (exceeded !== undefined) assert.equal(meter.exceeded, exceeded)
    exceeded = meter.exceeded
  }
  busboy.end()
  await done
  return { reported, exceeded, firstPartPlain: meter.firstPartPlain }
}

describe('the part header meter measures each part\'s header block inside busboy\'s parser', () => {
  for (const row of rows) {
    it(row.what, async () => {
      const body = Buffer.from(row.body, 'latin1')
      for (const chunks of splits(body)) {
        const found = await measure(chunks)
        const where = `chunks of ${chunks.map((chunk) => chunk.length).join('+')} bytes`
        assert.equal(found.exceeded, row.exceeded, `exceeded, ${where}`)
        if (row.exceeded === undefined) assert.equal(found.reported, row.reported, `reported, ${where}`)
      }
    })
  }
  it('busboy is told a header limit above the meter\'s, so that it never cuts a block the meter lets pass', () => {
    assert.ok(PartHeaderMeter.busboyHeaderSize(MAX) > MAX + 3)
  })
  it('tells when busboy is past the first part: never inside it, always once a later delimiter or the closing one came', () => {
    const body = Buffer.from(json + close, 'latin1')
    const busboy = Busboy({ headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, limits: { headerSize: PartHeaderMeter.busboyHeaderSize(MAX) } })
    busboy.on('error', () => {})
    const meter = new PartHeaderMeter(busboy, MAX)
    const closing = body.length - close.length - 2
    for (let at = 0; at < body.length; at++) {
      busboy.write(body.subarray(at, at + 1))
      // The closing delimiter, `\r\n--boundary`, is whole once its last byte came.
      assert.equal(meter.pastFirstPart, at >= closing + 2 + BOUNDARY.length + 1, `after byte ${at}`)
    }
  })
  it('the installed busboy has the header parser the meter reads', () => {
    assert.doesNotThrow(() => PartHeaderMeter.assertSupported())
  })
})

describe('the meter tells whether the first part is a plain form-data text part, which busboy may read as a field', () => {
  const rows: Array<{ what: string, block: string, plain: boolean }> = [
    { what: 'a name only, as forms and clients send the json part', block: 'Content-Disposition: form-data; name="json"\r\n', plain: true },
    { what: 'a lower-case header with a text/plain type', block: 'content-disposition:form-data; name="json"\r\ncontent-type: text/plain\r\n', plain: true },
    { what: 'a declared charset (busboy would decode in it; the call is UTF-8 whatever it says)', block: 'Content-Disposition: form-data; name="json"\r\nContent-Type: text/plain; charset=iso-8859-1\r\n', plain: false },
    { what: 'a charset in any case', block: 'Content-Disposition: form-data; name="json"\r\nContent-Type: text/plain; CHARSET=utf-16le\r\n', plain: false },
    { what: 'no Content-Disposition (busboy skips the part)', block: 'Content-Type: text/plain\r\n', plain: false },
    { what: 'another disposition (busboy skips the part)', block: 'Content-Disposition: attachment; name="json"\r\n', plain: false },
    { what: 'a bare line feed in the name (busboy skips the part)', block: 'Content-Disposition: form-data; name="js\non"\r\n', plain: false },
    { what: 'headers over the limit', block: `Content-Disposition: form-data; name="json"\r\nX-Pad: ${'p'.repeat(1000)}\r\n`, plain: false }
  ]
  for (const row of rows) {
    it(`${row.what}: ${row.plain ? 'plain' : 'not plain'}`, async () => {
      const body = Buffer.from(part(row.block, '{"method":"echo"}') + close, 'latin1')
      // Whole, and split inside the header block: busboy's parser joins the block before the meter reads it.
      for (const chunks of [[body], [body.subarray(0, 30), body.subarray(30)]]) {
        assert.equal((await measure(chunks, 1000)).firstPartPlain, row.plain)
      }
    })
  }
})
