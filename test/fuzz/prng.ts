import { SeededRandom } from '../support/seeded-random.js'

/**
 * The fuzzer's seeded pseudo-random picks, on the suite's mulberry32 generator (../support/seeded-random.ts): the same seed gives the same cases on every machine and Node
 * version, so a failing case is reproduced from its seed alone. No dependency, 32 bits of state.
 *
 * @example
 * ```ts
 * const rng = new Rng(caseSeed(1234, 17))
 * rng.int(10) // 0..9, the same every run
 * ```
 */
export class Rng {
  // The generator itself is the suite's one seeded PRNG; this adds the fuzzer's picks on top of it.
  readonly #random: SeededRandom

  constructor (seed: number) {
    this.#random = new SeededRandom(seed)
  }

  /** A float in [0, 1). */
  next (): number {
    return this.#random.next()
  }

  /** An integer in [0, n). */
  int (n: number): number {
    return Math.floor(this.next() * n)
  }

  /** An integer in [min, max]. */
  range (min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  /** True with probability `p`. */
  chance (p: number): boolean {
    return this.next() < p
  }

  /** One element of a non-empty list. */
  pick<T> (items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }

  /** A size skewed towards small values but reaching `max`: most mutations are small, a few are huge. */
  size (max: number): number {
    return Math.floor(max ** this.next())
  }

  /** `n` random bytes. */
  bytes (n: number): Buffer {
    const out = Buffer.alloc(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
}

/** The seed of case `index` of a run seeded with `seed`: each case can be replayed on its own. */
export function caseSeed (seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
