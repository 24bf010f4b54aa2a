/**
 * Measures the header block of every part of a multipart body as the body streams past, for `limits.partHeaderSize`.
 *
 * busboy has a header size limit of its own, but past it busboy cuts the block silently and goes on: the part arrives
 * with a truncated filename and without the headers that came later (its Content-Type), and nothing says so. The
 * protocol wants a 413 instead (PROTOCOL.md section 10), so the sizes are measured here, on the same bytes busboy
 * reads and delimited the way busboy delimits them (its dicer parser): a part begins after each `CRLF--boundary`
 * (the body counts as if preceded by a CRLF, so the first delimiter may open the body), `--` right after a delimiter
 * closes the body, and a header block is everything from the delimiter up to the first CRLFCRLF before the next
 * delimiter. So a block's size is its header lines, each with its CRLF, as busboy counts it.
 *
 * @example
 * ```ts
 * const gauge = new PartHeaderGauge('formcall-boundary', 80 * 1024)
 * req.on('data', (chunk) => gauge.write(chunk))
 * if (gauge.exceeded !== undefined) fail(`the headers of part ${gauge.exceeded} are too large`)
 * ```
 */
export class PartHeaderGauge {
  readonly #delimiter: Buffer
  readonly #max: number
  /** Where the stream is: before the first delimiter or in a part's content, in a header block, right after a delimiter, or past the closing one. */
  #state: 'content' | 'header' | 'delimiter' | 'closed' = 'content'
  /**
   * The last bytes of the stream that could begin a delimiter or a CRLFCRLF continued by the next chunk (fewer than
   * the delimiter's length). It starts as the CRLF the body counts as preceded by.
   */
  #tail: Buffer = Buffer.from('\r\n')
  /** Bytes of the current header block so far (tail included). */
  #headerBytes = 0
  /** Dashes seen right after the latest delimiter (two close the body). */
  #dashes = 0
  #parts = 0
  #completed = 0
  #exceeded: number | undefined
  #firstPartPlain = false

  /** Measures a body whose Content-Type names `boundary`, with at most `max` bytes of headers per part. */
  constructor (boundary: string, max: number) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1')
    this.#max = max
  }

  /** Header blocks that ended (with their CRLFCRLF) so far. busboy never reports a part whose block did not end. */
  get completed (): number { return this.#completed }

  /**
   * The number (1 for the first part, the `json` one) of the first part whose header block exceeded the limit, or
   * `undefined`. A block is known to exceed it once it ended, or once it is past the limit by more than any CRLFCRLF
   * or delimiter still to come could take back.
   */
  get exceeded (): number | undefined { return this.#exceeded }

  /**
   * Whether the first part's header block is known to be a plain form-data one: seen whole in one chunk, with a
   * `Content-Disposition: form-data`, no `charset` parameter and no bare CR or LF. busboy reports such a part, and
   * decodes it as UTF-8 when it reads it as a text field.
   */
  get firstPartPlain (): boolean { return this.#firstPartPlain }

  /** Whether the body is past the first part's content (a second part began, or the body closed). */
  get pastFirstPart (): boolean { return this.#parts >= 2 || (this.#parts === 1 && this.#state === 'closed') }

  /** Measures the next chunk of the body. */
  write (chunk: Buffer): void {
    let at = 0
    while (this.#exceeded === undefined) {
      if (this.#state === 'closed') return
      if (this.#state === 'content') {
        const found = this.#find(this.#delimiter, chunk, at)
        if (found === undefined) {
          this.#keepTail(chunk, at)
          return
        }
        at = found + this.#delimiter.length
        this.#state = 'delimiter'
        this.#dashes = 0
        this.#tail = EMPTY
      } else if (this.#state === 'delimiter') {
        while (this.#dashes < 2 && at < chunk.length && chunk[at] === DASH) {
          this.#dashes++
          at++
        }
        if (this.#dashes === 2) {
          this.#state = 'closed'
          return
        }
        if (at === chunk.length) return
        // A single dash not followed by another is where the header block starts, as in busboy.
        this.#parts++
        this.#headerBytes = this.#dashes
        this.#state = 'header'
      } else {
        const headerEnd = this.#find(CRLFCRLF, chunk, at)
        // busboy cuts the stream at delimiters before it looks for the CRLFCRLF, so a delimiter that starts before the
        // CRLFCRLF is complete cuts the block. The latest such start is 2 bytes into it (`\r\n\r\n--boundary`):
        // the search for one goes no further. Were that delimiter still incomplete at the chunk's end, the block is
        // taken as ended and the delimiter goes unseen; the part busboy then reports has not been measured, and
        // parseMultipart refuses the body for that (see `completed`).
        const cut = this.#find(this.#delimiter, chunk, at,
          headerEnd === undefined ? chunk.length : Math.min(chunk.length, headerEnd + 2 + this.#delimiter.length))
        if (cut !== undefined && (headerEnd === undefined || cut < headerEnd + CRLFCRLF.length)) {
          // Cut by the next delimiter: busboy drops such a part without reporting it.
          this.#measured(this.#headerBytes + cut - at, false)
          at = cut + this.#delimiter.length
          this.#state = 'delimiter'
          this.#dashes = 0
          this.#tail = EMPTY
        } else if (headerEnd !== undefined) {
          if (this.#parts === 1 && this.#headerBytes === this.#dashes && headerEnd > at) {
            this.#firstPartPlain = isPlainFormDataBlock(chunk.toString('latin1', at, headerEnd))
          }
          this.#measured(this.#headerBytes + headerEnd - at, true)
          at = headerEnd + CRLFCRLF.length
          this.#state = 'content'
          this.#tail = EMPTY
        } else {
          this.#headerBytes += chunk.length - at
          this.#keepTail(chunk, at)
          // The tail may yet turn out to start the CRLFCRLF or a delimiter, so it does not count against the limit yet.
          if (this.#headerBytes - this.#tail.length > this.#max) this.#exceeded = this.#parts
          return
        }
      }
    }
  }

  #measured (size: number, ended: boolean): void {
    if (ended) this.#completed++
    if (size > this.#max) this.#exceeded = this.#parts
  }

  /**
   * Where `needle` starts in the stream from `chunk[from]` on, as an index into `chunk` (negative when it starts in
   * the tail), or `undefined`; only a match that ends by `chunk[end]` counts. The tail takes part only when the search
   * starts at the chunk's beginning: past that, it has been consumed.
   */
  #find (needle: Buffer, chunk: Buffer, from: number, end = chunk.length): number | undefined {
    const tail = from === 0 ? this.#tail : EMPTY
    if (tail.length > 0) {
      const window = Buffer.concat([tail, chunk.subarray(0, Math.min(end, needle.length - 1))])
      const index = window.indexOf(needle)
      // A match inside the tail alone was looked for with the previous chunk: only one that reaches into this chunk is new.
      if (index !== -1 && index + needle.length > tail.length) return index - tail.length
    }
    const index = chunk.subarray(0, end).indexOf(needle, from)
    return index === -1 ? undefined : index
  }

  /** Keeps the bytes at the end of the stream (from `chunk[from]` on) that a match could still start with. */
  #keepTail (chunk: Buffer, from: number): void {
    const keep = this.#delimiter.length - 1
    const rest = chunk.subarray(from)
    const tail = from === 0 && rest.length < keep ? Buffer.concat([this.#tail, rest]) : rest
    // A copy: the chunk's memory belongs to the socket's pool.
    this.#tail = Buffer.from(tail.subarray(Math.max(0, tail.length - keep)))
  }
}

/**
 * The boundary parameter of a `multipart/form-data` Content-Type, token or quoted string, or `undefined`. busboy reads
 * the header itself; {@link parseMultipart} checks that the two agree (every part busboy reports must have been
 * measured), so a boundary written in a form read differently here fails the request rather than go unmeasured.
 *
 * @example
 * ```ts
 * boundaryOf('multipart/form-data; boundary="a b"') // 'a b'
 * ```
 */
export function boundaryOf (contentType: string | undefined): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i.exec(contentType ?? '')
  if (match === null) return undefined
  const boundary = match[1] === undefined ? (match[2] as string).trim() : match[1].replace(/\\(.)/g, '$1')
  return boundary === '' ? undefined : boundary
}

/** A header block busboy reads as a form-data part without a charset of its own (see `firstPartPlain`). */
function isPlainFormDataBlock (block: string): boolean {
  return PLAIN_DISPOSITION.test(block) && !CHARSET.test(block) && !BARE_LINE_BREAK.test(block)
}

const PLAIN_DISPOSITION = /(?:^|\r\n)content-disposition[ \t]*:[ \t]*form-data\b/i
const CHARSET = /charset/i
const BARE_LINE_BREAK = /\r(?!\n)|(?<!\r)\n/

const EMPTY = Buffer.alloc(0)
const CRLFCRLF = Buffer.from('\r\n\r\n')
const DASH = 0x2d
