/**
 * A small seeded PRNG (mulberry32), so a randomized test picks the same sizes, orders and offsets on every run with
 * the same seed, and a failing run can be replayed from the seed it printed.
 *
 * @example
 * ```ts
 * const random = new SeededRandom(Number(process.env.FORMCALL_SEED ?? 20261201))
 * const size = random.int(64 * 1024, 4 * 1024 * 1024)
 * ```
 */
export class SeededRandom {
  readonly seed: number
  #state: number

  constructor (seed: number) {
    this.seed = seed >>> 0
    this.#state = this.seed
  }

  /** A float in [0, 1). */
  next (): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [min, max], both included. */
  int (min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** True with probability `p`. */
  chance (p: number): boolean {
    return this.next() < p
  }

  /** A shuffled copy of `items` (Fisher–Yates). */
  shuffle<T> (items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[out[i], out[j]] = [out[j] as T, out[i] as T]
    }
    return out
  }
}

/** The seed a randomized test uses: `FORMCALL_SEED` from the environment, else `fallback`. */
export function testSeed (fallback: number): number {
  const fromEnv = process.env.FORMCALL_SEED
  return fromEnv === undefined || fromEnv === '' ? fallback : Number(fromEnv)
}
