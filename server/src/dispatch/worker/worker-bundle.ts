import { createHash } from 'node:crypto'
import { existsSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { buildSync } from 'esbuild'

const ENTRY_SOURCE = new URL('./worker-entry.ts', import.meta.url)
let bundled: string | undefined

/**
 * The URL of the code each pool worker runs. Running from TypeScript sources, the worker entry and what it imports
 * are bundled once per process into one ES module in the temp dir (named by its content hash), so a worker needs no
 * TypeScript loader for formcall's own code: ~19 MiB less per worker. If bundling fails, workers load the sources
 * through tsx instead.
 */
export function workerEntryUrl (): string {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker-entry.js', import.meta.url).href
  bundled ??= bundleWorkerEntry()
  return bundled
}

function bundleWorkerEntry (): string {
  try {
    const result = buildSync({
      entryPoints: [fileURLToPath(ENTRY_SOURCE)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      logLevel: 'silent'
    })
    const code = (result.outputFiles[0] as { text: string }).text
    const file = join(tmpdir(), `formcall-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`)
    if (!existsSync(file)) {
      // Written aside and renamed, so a worker of another process never imports a half-written file.
      const partial = `${file}.${process.pid}.partial`
      writeFileSync(partial, code)
      renameSync(partial, file)
    }
    return pathToFileURL(file).href
  } catch {
    return ENTRY_SOURCE.href
  }
}
