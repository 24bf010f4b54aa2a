import { cpus, loadavg, totalmem, platform, arch, release } from 'node:os'

/** The machine a run measured, printed above the table and stored with the results. */
export interface Machine {
  cores: number
  cpu: string
  memoryGiB: number
  node: string
  os: string
  /**
   * The 1-minute load average when the run started (other work on the machine) and when it ended (this run's own
   * processes included).
   */
  loadAverage: { start: number, end: number }
}

/** The 1-minute load average now (0 where the OS has none, e.g. Windows). */
export function loadAverageNow (): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100
}

/** Describes this machine; `loadAtStart` is {@link loadAverageNow} from the start of the run. */
export function describeMachine (loadAtStart: number): Machine {
  const list = cpus()
  return {
    cores: list.length,
    cpu: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    loadAverage: { start: loadAtStart, end: loadAverageNow() }
  }
}
