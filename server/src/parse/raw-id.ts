import type { CallId } from '@formcall/spec'

/**
 * A number id as the client wrote it. JSON.parse turns `12345678901234567890` into 12345678901234567000 (the nearest
 * double), `1e2` into 100 and `1.0` into 1, and JSON.stringify would send those back; a response carries the id the
 * client sent (PROTOCOL.md section 5.3), so such an id is kept as its text and written as it (see `idJson`).
 *
 * @example
 * ```ts
 * const id = new RawId('12345678901234567890')
 * `{"id":${id.text}}` // the client's own digits
 * ```
 */
export class RawId {
  /** The number literal exactly as it stood in the call. */
  readonly text: string

  constructor (text: string) {
    this.text = text
  }

  /** Where a RawId meets JSON.stringify (a log line), it stands for the number it parses to. */
  toJSON (): number {
    return Number(this.text)
  }
}

/** The id a response carries: the parsed id, or the text of a number id that parsing would change. */
export type ResponseId = CallId | RawId

/**
 * The id to answer a call with. Strings and `null` come back as parsed (their value is exact). A number comes back as
 * its literal (found by `literal`, called for numbers only) whenever that differs from what JSON.stringify writes for
 * the parsed value: digits past 2^53, exponents, trailing zeros, `-0`.
 *
 * @example
 * ```ts
 * responseId(7, () => '7')        // 7
 * responseId(100, () => '1e2')    // RawId { text: '1e2' }
 * ```
 */
export function responseId (id: CallId, literal: () => string | undefined): ResponseId {
  if (typeof id !== 'number') return id
  const text = literal()
  return text === undefined || text === JSON.stringify(id) ? id : new RawId(text)
}

/**
 * The number literal of the `id` member of a call's JSON text, or `undefined` when that member is not a number.
 * `text` must be JSON that parsed; when `id` appears more than once, the last one counts, as it does for JSON.parse.
 *
 * Clients write `id` last (`{"jsonrpc", "method", "params", "id"}`), so that case is read backwards from the end
 * without looking at the params at all; other orders are scanned.
 *
 * @example
 * ```ts
 * callIdLiteral('{"method":"echo","id":1e2}') // '1e2'
 * ```
 */
export function callIdLiteral (text: string): string | undefined {
  return lastMemberIdLiteral(text) ?? new JsonScan(text).objectIdLiteral()
}

/**
 * For a batch's JSON text (an array that parsed), the number literal of each entry's `id` member, `undefined` for an
 * entry without a number id.
 *
 * @example
 * ```ts
 * batchIdLiterals('[{"method":"a","id":1.0},{"method":"b","id":"x"}]') // ['1.0', undefined]
 * ```
 */
export function batchIdLiterals (text: string): Array<string | undefined> {
  return new JsonScan(text).batchIdLiterals()
}

/**
 * The literal of a last member `"id": <number>` of the top-level object, found from the end of the text: the top-level
 * value is an object, so its closing brace ends the text and the member before it is one of its own. `undefined` when
 * the last member is another one (or `id` written with escapes), and the caller scans instead.
 */
function lastMemberIdLiteral (text: string): string | undefined {
  let at = text.length
  while (at > 0 && isWhitespace(text.charCodeAt(at - 1))) at--
  if (text.charCodeAt(--at) !== CLOSE_BRACE) return undefined
  while (isWhitespace(text.charCodeAt(at - 1))) at--
  const end = at
  while (isNumberChar(text.charCodeAt(at - 1))) at--
  const start = at
  if (start === end) return undefined
  while (isWhitespace(text.charCodeAt(at - 1))) at--
  if (text.charCodeAt(--at) !== COLON) return undefined
  while (isWhitespace(text.charCodeAt(at - 1))) at--
  if (!text.startsWith('"id"', at - 4)) return undefined
  // That quote opens the key only if no backslash escapes it (`"x\"id"` is a key that ends in `"id`).
  let backslashes = 0
  while (text.charCodeAt(at - 5 - backslashes) === BACKSLASH) backslashes++
  return backslashes % 2 === 0 ? text.slice(start, end) : undefined
}

/** A forward scan over JSON text that parsed, skipping values without building them. */
class JsonScan {
  readonly #text: string
  #at = 0

  constructor (text: string) {
    this.#text = text
    // secure-json-parse drops a leading byte order mark before parsing; so does the scan.
    if (text.charCodeAt(0) === BOM) this.#at = 1
  }

  /** At an object: the literal of its last `id` member if that is a number. Leaves the scan after the object. */
  objectIdLiteral (): string | undefined {
    const text = this.#text
    this.#whitespace()
    if (text.charCodeAt(this.#at) !== OPEN_BRACE) return undefined
    this.#at++
    this.#whitespace()
    if (text.charCodeAt(this.#at) === CLOSE_BRACE) {
      this.#at++
      return undefined
    }
    let literal: string | undefined
    for (;;) {
      this.#whitespace()
      const keyStart = this.#at
      this.#string()
      const isId = isIdKey(text.slice(keyStart, this.#at))
      this.#whitespace()
      this.#at++ // the colon
      this.#whitespace()
      const valueStart = this.#at
      this.#value()
      if (isId) literal = isNumberStart(text.charCodeAt(valueStart)) ? text.slice(valueStart, this.#at) : undefined
      this.#whitespace()
      if (text.charCodeAt(this.#at++) !== COMMA) return literal
    }
  }

  /** At an array: {@link objectIdLiteral} of each entry. */
  batchIdLiterals (): Array<string | undefined> {
    const text = this.#text
    const literals: Array<string | undefined> = []
    this.#whitespace()
    if (text.charCodeAt(this.#at) !== OPEN_BRACKET) return literals
    this.#at++
    this.#whitespace()
    if (text.charCodeAt(this.#at) === CLOSE_BRACKET) return literals
    for (;;) {
      this.#whitespace()
      if (text.charCodeAt(this.#at) === OPEN_BRACE) {
        literals.push(this.objectIdLiteral())
      } else {
        this.#value()
        literals.push(undefined)
      }
      this.#whitespace()
      if (text.charCodeAt(this.#at++) !== COMMA) return literals
    }
  }

  #whitespace (): void {
    while (isWhitespace(this.#text.charCodeAt(this.#at))) this.#at++
  }

  /** Past the string that starts here. */
  #string (): void {
    const text = this.#text
    let from = this.#at + 1
    for (;;) {
      const quote = text.indexOf('"', from)
      if (quote === -1) {
        this.#at = text.length
        return
      }
      let backslashes = 0
      while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++
      if (backslashes % 2 === 0) {
        this.#at = quote + 1
        return
      }
      from = quote + 1
    }
  }

  /** Past the value that starts here. */
  #value (): void {
    const text = this.#text
    const first = text.charCodeAt(this.#at)
    if (first === QUOTE) {
      this.#string()
      return
    }
    if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
      PRIMITIVE_END.lastIndex = this.#at
      this.#at = PRIMITIVE_END.exec(text)?.index ?? text.length
      return
    }
    // A nested value: only brackets and strings (which may hold brackets) matter, so jump from one to the next.
    let depth = 0
    STRUCTURE.lastIndex = this.#at
    for (let match = STRUCTURE.exec(text); match !== null; match = STRUCTURE.exec(text)) {
      const char = text.charCodeAt(match.index)
      if (char === QUOTE) {
        this.#at = match.index
        this.#string()
        STRUCTURE.lastIndex = this.#at
      } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
        depth++
      } else if (--depth === 0) {
        this.#at = match.index + 1
        return
      }
    }
    this.#at = text.length
  }
}

/** Whether a key's JSON text (quotes included) is `"id"`, however escaped. */
function isIdKey (key: string): boolean {
  if (key === '"id"') return true
  return key.includes('\\') && JSON.parse(key) === 'id'
}

function isWhitespace (char: number): boolean {
  return char === 0x20 || char === 0x0a || char === 0x0d || char === 0x09
}

/** Characters of a JSON number literal. */
function isNumberChar (char: number): boolean {
  return (char >= 0x30 && char <= 0x39) || char === 0x2d || char === 0x2b || char === 0x2e || char === 0x65 || char === 0x45
}

function isNumberStart (char: number): boolean {
  return (char >= 0x30 && char <= 0x39) || char === 0x2d
}

const PRIMITIVE_END = /[\s,\]}]/g
const STRUCTURE = /["[\]{}]/g
const BOM = 0xfeff
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
