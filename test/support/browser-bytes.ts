import { createHash } from 'node:crypto'

/**
 * Fills `bytes` with a deterministic pseudo-random sequence (xorshift32 from `seed`, four bytes per step). The same
 * function runs in the page (its source is sent there, see `patternSource`) and in Node, so a test can know the
 * SHA-256 of a large Blob made in the page without shipping it across.
 *
 * Self-contained on purpose: it must still work when its source text is evaluated in a page.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(1024)
 * fillPattern(bytes, 7)
 * ```
 */
export function fillPattern (bytes: Uint8Array, seed: number): void {
  let x = (seed >>> 0) || 1
  for (let i = 0; i < bytes.length; i += 4) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    // Writes past the end of a typed array are ignored, so a length that is not a multiple of 4 needs no care.
    bytes[i] = x
    bytes[i + 1] = x >>> 8
    bytes[i + 2] = x >>> 16
    bytes[i + 3] = x >>> 24
  }
}

/** `fillPattern`'s source, for `new Function` in a page. */
export const patternSource = fillPattern.toString()

/** The bytes `fillPattern(new Uint8Array(size), seed)` makes, as a Buffer. */
export function patternBytes (size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size)
  fillPattern(bytes, seed)
  return bytes
}

/** Hex SHA-256 of some bytes. */
export function sha256 (data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}
