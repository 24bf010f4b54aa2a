const MiB = 1024 * 1024

/** What one bench run measures, from the environment (see the bench README). */
export interface BenchSettings {
  /** `BENCH_UPLOAD_MB`: MiB of the uploaded file part. Default 1024 (1 GiB). */
  uploadMiB: number
  /** Bytes of the uploaded file part. */
  uploadBytes: number
  /** `BENCH_REPEAT`: uploads per upload row (one server process, a new client process each); the median counts. Default 5. */
  repeat: number
  /**
   * `BENCH_WARMUP`: rounds of uploads each upload-row group runs first and counts in no figure (0 for none).
   * Default 1.
   */
  warmUpRounds: number
  /** Size of the generated blocks the load clients write: 64 KiB. */
  blockBytes: number
  /** Bytes per write of the raw load client (repeats of the block, one preallocated buffer): 1 MiB. */
  rawWriteBytes: number
  /** highWaterMark of the raw load client's request and socket: 4 MiB, so several writes queue and go out as one writev. */
  rawHighWaterMark: number
  /** `BENCH_SECONDS`: seconds autocannon measures each small-call row. Default 5. */
  seconds: number
  /** Seconds of autocannon warm-up before each small-call row, not measured: 1. */
  warmupSeconds: number
  /** Concurrent connections of autocannon: 10. */
  connections: number
  /**
   * `BENCH_PAIRED_ROUNDS`: rounds of a paired small-call row (the -zod rows), each one autocannon run of each of its
   * two calls, alternating. Default 3.
   */
  pairedRounds: number
  /** RSS sampling interval: 50 ms. */
  sampleMs: number
  /** `BENCH_ONLY`: run only the rows whose id contains one of these comma-separated strings. */
  only: string[]
  /** `BENCH_RSS_SWEEP`: GiB sizes of the RSS sweep's uploads, ascending (e.g. `1,8`). Default none: the sweep is off. */
  rssSweepGiB: number[]
  /**
   * `BENCH_APP_HEAP_MB`: MiB of live heap every bench server holds from start-up, as an application's own state
   * would (see support/app-heap.ts). Default 32; 0 measures the bare processes.
   */
  appHeapMiB: number
}

/** Reads the settings, refusing values that would make the numbers meaningless. */
export function readSettings (env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const uploadMiB = positiveNumber(env, 'BENCH_UPLOAD_MB', 1024)
  return {
    uploadMiB,
    uploadBytes: Math.round(uploadMiB * MiB),
    repeat: Math.max(1, Math.round(positiveNumber(env, 'BENCH_REPEAT', 5))),
    warmUpRounds: env.BENCH_WARMUP === '0' ? 0 : Math.round(positiveNumber(env, 'BENCH_WARMUP', 1)),
    blockBytes: 64 * 1024,
    rawWriteBytes: 1 * MiB,
    rawHighWaterMark: 4 * MiB,
    seconds: positiveNumber(env, 'BENCH_SECONDS', 5),
    warmupSeconds: 1,
    connections: 10,
    pairedRounds: Math.max(1, Math.round(positiveNumber(env, 'BENCH_PAIRED_ROUNDS', 3))),
    sampleMs: 50,
    only: (env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    rssSweepGiB: positiveList(env, 'BENCH_RSS_SWEEP'),
    appHeapMiB: env.BENCH_APP_HEAP_MB === '0' ? 0 : positiveNumber(env, 'BENCH_APP_HEAP_MB', 32)
  }
}

/** Whether the row `id` runs under `settings.only`. */
export function selected (settings: BenchSettings, id: string): boolean {
  return settings.only.length === 0 || settings.only.some((part) => id.includes(part))
}

function positiveNumber (env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`${name} must be a positive number, got "${text}"`)
  return value
}

function positiveList (env: NodeJS.ProcessEnv, name: string): number[] {
  const parts = (env[name] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  const values = parts.map((text) => positiveNumber({ [name]: text }, name, 0))
  return [...new Set(values)].sort((a, b) => a - b)
}
