import { getHeapStatistics } from 'node:v8'

/** What {@link holdAppHeap} keeps alive for the life of the process. */
const held: unknown[] = []

/**
 * Gives this process `mib` MiB more live JavaScript heap, as an application's own state (caches, routes, sessions,
 * loaded modules) would: small records that stay reachable until the process exits. Every bench server calls it
 * once at start-up with the same figure (`BENCH_APP_HEAP_MB`), baselines and formcall alike.
 *
 * Why: V8 decides when to run full collections from the size of the old generation, so the same work costs a
 * different amount of GC on a 4 MiB heap than on a 12 MiB one. A bare `node:http` + busboy process idles at about
 * 4 MiB of heap, a bare Fastify app at about 8, a formcall server at about 12: with the bare heaps, one 1 GiB
 * upload to the formcall server took 28–36 mark-compacts and the bare parser's took none, and a bare busboy server
 * given 12 MiB of plain records took 29 and dropped from 1270 to 770 MiB/s. Measured with the same application heap
 * on every server, the upload ratios compare the work each server does per byte, not which side of V8's heap
 * heuristics its start-up left it on. `BENCH_APP_HEAP_MB=0` measures the bare processes.
 *
 * @example
 * ```ts
 * holdAppHeap(32)
 * ```
 */
export function holdAppHeap (mib: number): void {
  if (!(mib > 0)) return
  const target = getHeapStatistics().used_heap_size + mib * 1024 * 1024
  let id = 0
  while (getHeapStatistics().used_heap_size < target) {
    const batch = []
    for (let i = 0; i < 1000; i++, id++) batch.push({ id, name: `record ${id}`, tags: [id % 7, id % 11] })
    held.push(batch)
  }
}
