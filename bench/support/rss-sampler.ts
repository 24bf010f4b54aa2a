import { readFileSync } from 'node:fs'

const KiB = 1024

/**
 * The resident set size of process `pid` in bytes, read from `/proc/<pid>/status` (`VmRSS`); `null` where there is
 * no procfs (macOS, Windows) or the process is gone.
 */
export function readRss (pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1')
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
    return match === null ? null : Number(match[1]) * KiB
  } catch {
    return null
  }
}

/**
 * The RSS of `pid` once it has settled: sampled every 100 ms until it moved by less than 1 MiB over `quietMs`, or
 * `maxMs` passed. A server that just said it listens may still be growing (worker threads warming up after their
 * boot: ~100 MiB over the first second for a pool of 8); an upload's growth must not be charged with that.
 */
export async function settledRss (pid: number, quietMs = 1000, maxMs = 10_000): Promise<number | null> {
  const started = Date.now()
  let last = readRss(pid)
  let quietSince = Date.now()
  while (last !== null && Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const now = readRss(pid)
    if (now === null) return last
    if (Math.abs(now - last) >= 2 ** 20) {
      last = now
      quietSince = Date.now()
    } else if (Date.now() - quietSince >= quietMs) {
      return now
    }
  }
  return last
}

/**
 * Samples the RSS of some processes every `intervalMs` and keeps each one's peak. Sampling misses spikes shorter
 * than the interval; for the bench's long uploads the steady state is what matters.
 *
 * @example
 * ```ts
 * const sampler = new RssSampler(50)
 * sampler.watch(server.pid)
 * // … run the load …
 * sampler.stop()
 * sampler.peak(server.pid) // bytes, or null without procfs
 * ```
 */
export class RssSampler {
  readonly #peaks = new Map<number, number | null>()
  readonly #timer: NodeJS.Timeout

  constructor (intervalMs = 50) {
    this.#timer = setInterval(() => this.#sample(), intervalMs)
  }

  /** Starts sampling `pid` (sampled once right away). */
  watch (pid: number): void {
    if (!this.#peaks.has(pid)) this.#peaks.set(pid, null)
    this.#sampleOne(pid)
  }

  /** Takes a last sample and stops. */
  stop (): void {
    this.#sample()
    clearInterval(this.#timer)
  }

  /** The highest RSS seen for `pid`, in bytes. */
  peak (pid: number): number | null {
    return this.#peaks.get(pid) ?? null
  }

  #sample (): void {
    for (const pid of this.#peaks.keys()) this.#sampleOne(pid)
  }

  #sampleOne (pid: number): void {
    const rss = readRss(pid)
    const peak = this.#peaks.get(pid) ?? null
    if (rss !== null && (peak === null || rss > peak)) this.#peaks.set(pid, rss)
  }
}
