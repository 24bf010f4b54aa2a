import type { BenchSettings } from '../support/settings.js'
import { UploadRow, type UploadRowSpec } from './upload-row.js'

/** One point of the RSS sweep: one row's server, fresh, taking one upload of `gib` GiB. */
export interface RssSweepResult {
  /** `rss/<what>[/<mode>]/<size>GiB`, e.g. `rss/formcall/worker/8GiB`. */
  id: string
  mode: string
  server: string
  /** GiB of the file part. */
  gib: number
  status: 'ok' | 'failed' | 'not measured'
  note?: string
  ms?: number
  mibPerSecond?: number
  /** Server RSS just before the upload (a fresh server, after start-up). */
  serverRssBefore?: number | null
  /** Highest server RSS sampled during the upload. */
  serverRssPeak?: number | null
  /** The kernel's peak RSS of the server process since it started (`maxRSS`), read after the upload. */
  serverRssMax?: number | null
  /** `serverRssPeak - serverRssBefore`: what the upload added. */
  growth?: number | null
}

const GiB = 2 ** 30

/**
 * The RSS sweep (`BENCH_RSS_SWEEP`): every row of `specs` takes one upload of each size, each time on a new server
 * process, so each point's growth starts from the same idle server. Sizes go in the outer loop, so a busy minute on
 * a shared machine touches all rows of a size alike. The results come back row by row, sizes ascending.
 */
export async function runRssSweep (specs: UploadRowSpec[], settings: BenchSettings,
  progress: (text: string) => void): Promise<RssSweepResult[]> {
  const results: RssSweepResult[] = []
  for (const gib of settings.rssSweepGiB) {
    for (const spec of specs) {
      const id = `${spec.id}/${gib}GiB`
      progress(`${id} (one ${gib} GiB upload to a new server) …`)
      const bytes = Math.round(gib * GiB)
      const row = new UploadRow({ ...spec, id }, { ...settings, uploadMiB: bytes / 2 ** 20, uploadBytes: bytes, repeat: 1 })
      await row.start()
      await row.uploadOnce()
      const r = await row.finish()
      const growth = r.serverRssPeak == null || r.serverRssIdle == null ? null : r.serverRssPeak - r.serverRssIdle
      results.push({
        id,
        mode: r.mode,
        server: r.server,
        gib,
        status: r.status,
        ...(r.note === undefined ? {} : { note: r.note }),
        ...(r.ms === undefined ? {} : { ms: r.ms }),
        ...(r.mibPerSecond === undefined ? {} : { mibPerSecond: r.mibPerSecond }),
        serverRssBefore: r.serverRssIdle ?? null,
        serverRssPeak: r.serverRssPeak ?? null,
        serverRssMax: r.serverRssMax ?? null,
        growth
      })
      progress(`${id}: ${r.status === 'ok' ? `grew ${growth === null ? '-' : Math.round(growth / 2 ** 20)} MiB` : `${r.status}: ${r.note ?? ''}`}`)
    }
  }
  const order = specs.map((s) => s.id)
  return results.sort((a, b) => order.indexOf(rowOf(a.id)) - order.indexOf(rowOf(b.id)) || a.gib - b.gib)
}

/** The row id a sweep id belongs to: `rss/formcall/worker/8GiB` → `rss/formcall/worker`. */
function rowOf (id: string): string {
  return id.slice(0, id.lastIndexOf('/'))
}
