import { Busboy, type BusboyInstance } from '@fastify/busboy'

/**
 * Measures the header block of every part inside busboy's own header parser, for `limits.partHeaderSize`.
 *
 * busboy has a header size limit of its own, but past it busboy cuts the block silently and goes on: the part arrives
 * with a truncated filename and without the headers that came later (its Content-Type), and nothing says so. The
 * protocol wants a 413 instead (PROTOCOL.md section 10). busboy keeps the block it is reading as text, and resets
 * its counts before it reports the block, so the meter looks at that text at the two moments a block ends: when its
 * CRLFCRLF is found (the parser's `_finish`) and when a delimiter cuts it (its `reset`). busboy's own limit is set a
 * few bytes above ours ({@link PartHeaderMeter.busboyHeaderSize}), so that a block over ours always keeps more text
 * than ours allows, and one within it is never cut.
 *
 * This reaches into busboy's internals, which is why `@fastify/busboy` is pinned to one version and
 * {@link PartHeaderMeter.assertSupported} runs when the plugin starts. A second search of every body byte for the
 * delimiters busboy already finds did the same job from the outside; it cost uploads a quarter of their CPU.
 *
 * @example
 * ```ts
 * const busboy = Busboy({ headers, limits: { headerSize: PartHeaderMeter.busboyHeaderSize(max) } })
 * const meter = new PartHeaderMeter(busboy, max)
 * busboy.write(chunk)
 * if (meter.exceeded !== undefined) fail(`the headers of part ${meter.exceeded} are too large`)
 * ```
 */
export class PartHeaderMeter {
  readonly #max: number
  readonly #parser: HeaderParserInternals
  /** Header blocks that ended, or were cut, so far: the number of the block being read is one more. */
  #blocks = 0
  /** Delimiters busboy found: the first opens the first part, the second ends it. */
  #delimiters = 0
  #exceeded: number | undefined
  #firstPartPlain = false

  /** The `headerSize` limit to give busboy for a `partHeaderSize` of `max`: above it by more than a split CRLFCRLF. */
  static busboyHeaderSize (max: number): number { return max + 4 }

  /** Throws unless the installed busboy has the header parser the meter reads; the plugin calls it when it starts. */
  static assertSupported (): void {
    headerParserOf(Busboy({ headers: { 'content-type': 'multipart/form-data; boundary=probe' } }))
  }

  /** Measures the parts `busboy` (made with {@link PartHeaderMeter.busboyHeaderSize}) reads, at most `max` bytes of headers each. */
  constructor (busboy: BusboyInstance, max: number) {
    this.#max = max
    const parser = this.#parser = headerParserOf(busboy)
    const meter = this
    const finish = parser._finish
    const reset = parser.reset
    parser._finish = function (this: HeaderParserInternals) {
      meter.#blockEnded(this.buffer, true)
      finish.call(this)
    }
    parser.reset = function (this: HeaderParserInternals) {
      // Called after every delimiter: a block still being read there is cut (busboy drops the part unreported).
      meter.#delimiters++
      if (this.buffer !== '') meter.#blockEnded(this.buffer, false)
      reset.call(this)
    }
  }

  /**
   * The number (1 for the first part, the `json` one) of the first part whose header block exceeded the limit, or
   * `undefined`. A block is known to exceed it once it ended, or once busboy's own limit stopped keeping its text.
   */
  get exceeded (): number | undefined {
    // busboy keeps a block's text up to its own limit, of which at most 3 bytes can begin a CRLFCRLF yet to come.
    if (this.#exceeded === undefined && this.#parser.maxed) this.#exceeded = this.#blocks + 1
    return this.#exceeded
  }

  /**
   * Whether the first part's header block is a plain form-data one: a `Content-Disposition: form-data`, no `charset`
   * parameter and no bare CR or LF, within the limit. busboy reports such a part, and decodes it as UTF-8 when it reads
   * it as a text field. Known once busboy parsed the block, which is before it asks whether the part is a file.
   */
  get firstPartPlain (): boolean { return this.#firstPartPlain }

  /** Whether busboy is past the first part's content (a later delimiter, or the closing one, was found). */
  get pastFirstPart (): boolean { return this.#delimiters >= 2 }

  /**
   * A block ended: `complete` with its CRLFCRLF (taken off `text`), or cut by a delimiter. `text` is all of it busboy
   * kept, every byte header text; only a complete first block can be a plain form-data one.
   */
  #blockEnded (text: string, complete: boolean): void {
    this.#blocks++
    const within = text.length <= this.#max
    if (!within) this.#exceeded ??= this.#blocks
    if (this.#blocks === 1) this.#firstPartPlain = complete && within && isPlainFormDataBlock(text)
  }
}

/** The parts of busboy's header parser the meter reads and wraps (`@fastify/busboy`'s `deps/dicer/lib/HeaderParser.js`). */
interface HeaderParserInternals {
  /** The block read so far, as latin1 text, up to busboy's limit. */
  buffer: string
  /** Whether the block reached busboy's limit (bytes past it are dropped). */
  maxed: boolean
  _finish (): void
  reset (): void
}

function headerParserOf (busboy: BusboyInstance): HeaderParserInternals {
  const parser = (busboy as unknown as { _parser?: { parser?: { _hparser?: Partial<HeaderParserInternals> } } })._parser?.parser?._hparser
  if (typeof parser?._finish !== 'function' || typeof parser.reset !== 'function' || typeof parser.buffer !== 'string' || typeof parser.maxed !== 'boolean') {
    throw new Error('formcall needs the multipart header parser of @fastify/busboy 3.2.6, to measure part headers; ' +
      'the installed @fastify/busboy has another: install the version @formcall/server depends on')
  }
  return parser as HeaderParserInternals
}

/** A header block busboy reads as a form-data part without a charset of its own (see `firstPartPlain`). */
function isPlainFormDataBlock (block: string): boolean {
  return PLAIN_DISPOSITION.test(block) && !CHARSET.test(block) && !BARE_LINE_BREAK.test(block)
}

const PLAIN_DISPOSITION = /(?:^|\r\n)content-disposition[ \t]*:[ \t]*form-data\b/i
const CHARSET = /charset/i
const BARE_LINE_BREAK = /\r(?!\n)|(?<!\r)\n/
