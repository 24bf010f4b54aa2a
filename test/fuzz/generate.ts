import { corpus, CORPUS_SIZE } from './corpus.js'
import type { Draft } from './draft.js'
import { MUTATORS, type Mutator } from './mutators.js'
import { caseSeed, Rng } from './prng.js'

/** One fuzz case: a corpus entry and the mutators applied to it, all decided by the case's seed. */
export interface FuzzCase {
  /** Position in the run; with the run's seed it reproduces the case. */
  readonly index: number
  /** The case's own seed (derived from the run's seed and `index`). */
  readonly caseSeed: number
  readonly draft: Draft
  /** The names of the mutators applied, in order. */
  readonly mutators: readonly string[]
}

const ORDER: Record<Mutator['needs'], number> = { call: 0, multipart: 1, any: 2 }

/**
 * Builds case `index` of a run seeded with `seed`. About one case in twenty is left unmutated (a valid request, to
 * check the server still answers those among the broken ones); the others get one to four mutators, the JSON and
 * multipart ones applied before the byte-level ones so structure is broken before it is flattened.
 *
 * @example
 * ```ts
 * const { draft, mutators } = makeCase(1, 42)
 * ```
 */
export function makeCase (seed: number, index: number): FuzzCase {
  const own = caseSeed(seed, index)
  const rng = new Rng(own)
  const draft = corpus()[rng.int(CORPUS_SIZE)] as Draft
  const applicable = MUTATORS.filter((mutator) =>
    mutator.needs === 'any' ||
    (mutator.needs === 'multipart' && draft.multipart !== undefined) ||
    (mutator.needs === 'call' && draft.callText !== undefined))
  let count = rng.chance(0.05) ? 0 : 1
  while (count > 0 && count < 4 && rng.chance(0.4)) count++
  const chosen: Mutator[] = []
  for (let i = 0; i < count; i++) chosen.push(rng.pick(applicable))
  chosen.sort((a, b) => ORDER[a.needs] - ORDER[b.needs])
  const applied: string[] = []
  for (const mutator of chosen) {
    if (mutator.needs === 'multipart' && draft.multipart === undefined) continue
    if (mutator.needs === 'call' && draft.callText === undefined) continue
    mutator.apply(draft, rng)
    applied.push(mutator.name)
  }
  return { index, caseSeed: own, draft, mutators: applied }
}
