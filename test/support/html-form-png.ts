import { inflateSync } from 'node:zlib'

/** What a screenshot shows, by its pixels. */
export interface ScreenshotInk {
  width: number
  height: number
  /** Distinct RGB colours. */
  colours: number
  /** The share of pixels (0 to 1) that differ from the most common colour, the page's background. */
  inked: number
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/**
 * Decodes a PNG as Chromium writes screenshots (8-bit RGB or RGBA, not interlaced) and measures how much of it is not
 * background: a blank or unpainted page is one colour with nothing inked.
 *
 * @example
 * ```ts
 * const { colours, inked } = screenshotInk(await page.screenshot())
 * ```
 */
export function screenshotInk (png: Buffer): ScreenshotInk {
  const { width, height, channels, pixels } = decodePng(png)
  const counts = new Map<number, number>()
  for (let at = 0; at < pixels.length; at += channels) {
    const rgb = (pixels[at] as number) << 16 | (pixels[at + 1] as number) << 8 | (pixels[at + 2] as number)
    counts.set(rgb, (counts.get(rgb) ?? 0) + 1)
  }
  const background = Math.max(...counts.values())
  return { width, height, colours: counts.size, inked: 1 - background / (width * height) }
}

/** The raw pixels of an 8-bit, non-interlaced RGB or RGBA PNG, rows unfiltered. */
function decodePng (png: Buffer): { width: number, height: number, channels: number, pixels: Buffer } {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG')
  let width = 0
  let height = 0
  let channels = 0
  const data: Buffer[] = []
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at)
    const type = png.toString('latin1', at + 4, at + 8)
    const body = png.subarray(at + 8, at + 8 + length)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const [depth, colourType, interlace] = [body[8], body[9], body[12]]
      if (depth !== 8 || (colourType !== 2 && colourType !== 6) || interlace !== 0) {
        throw new Error(`unsupported PNG: depth ${String(depth)}, colour type ${String(colourType)}, interlace ${String(interlace)}`)
      }
      channels = colourType === 6 ? 4 : 3
    }
    if (type === 'IDAT') data.push(body)
    at += 12 + length
  }
  return { width, height, channels, pixels: unfilter(inflateSync(Buffer.concat(data)), width, height, channels) }
}

/** Undoes the per-row filters (PNG spec section 9): each row is a filter byte and `width * channels` bytes. */
function unfilter (raw: Buffer, width: number, height: number, channels: number): Buffer {
  const stride = width * channels
  const out = Buffer.alloc(stride * height)
  for (let row = 0; row < height; row++) {
    const filter = raw[row * (stride + 1)] as number
    const source = raw.subarray(row * (stride + 1) + 1, (row + 1) * (stride + 1))
    const start = row * stride
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? out[start + x - channels] as number : 0
      const up = row > 0 ? out[start - stride + x] as number : 0
      const upLeft = row > 0 && x >= channels ? out[start - stride + x - channels] as number : 0
      out[start + x] = ((source[x] as number) + predict(filter, left, up, upLeft)) & 0xff
    }
  }
  return out
}

function predict (filter: number, left: number, up: number, upLeft: number): number {
  switch (filter) {
    case 0: return 0
    case 1: return left
    case 2: return up
    case 3: return (left + up) >> 1
    case 4: return paeth(left, up, upLeft)
    default: throw new Error(`unknown PNG row filter ${filter}`)
  }
}

function paeth (left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft
  const [toLeft, toUp, toUpLeft] = [Math.abs(estimate - left), Math.abs(estimate - up), Math.abs(estimate - upLeft)]
  if (toLeft <= toUp && toLeft <= toUpLeft) return left
  return toUp <= toUpLeft ? up : upLeft
}
