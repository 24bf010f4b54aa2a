import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import type { Rolldown } from 'vite'

const packageRoot = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Builds the client as one self-contained ES module for a test page: the package's own source, with
 * `@formcall/spec` bundled in (a page has no module resolver), not minified so stack traces stay readable.
 *
 * @example
 * ```ts
 * const code = await buildBrowserBundle()
 * ```
 */
export async function buildBrowserBundle (): Promise<string> {
  const result = await build({
    configFile: false,
    root: packageRoot,
    logLevel: 'warn',
    build: {
      lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'formcall' },
      write: false,
      minify: false,
      target: 'es2022'
    }
  })
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[]
  const chunk = outputs[0]?.output.find((file) => file.type === 'chunk')
  if (chunk === undefined || chunk.type !== 'chunk') throw new Error('the Vite build produced no JavaScript chunk')
  return chunk.code
}
