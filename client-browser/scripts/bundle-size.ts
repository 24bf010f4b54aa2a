// Prints the client's size minified and gzipped, as an app would ship it: once with @formcall/spec left as an
// import (what dist/ holds), once with it bundled in (all a page downloads for the client).
// Run: node --import tsx scripts/bundle-size.ts
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'vite'
import type { Rolldown } from 'vite'

const root = fileURLToPath(new URL('..', import.meta.url))

async function minifiedSize (external: string[]): Promise<{ minified: number; gzipped: number }> {
  const result = await build({
    configFile: false,
    root,
    logLevel: 'silent',
    build: {
      lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'index' },
      rolldownOptions: { external, output: { minify: true } },
      write: false,
      minify: true,
      target: 'es2022'
    }
  })
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[]
  const chunk = outputs[0]?.output.find((file) => file.type === 'chunk')
  if (chunk === undefined || chunk.type !== 'chunk') throw new Error('the build produced no JavaScript chunk')
  const code = Buffer.from(chunk.code)
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length }
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB (${bytes} B)`
for (const [label, external] of [['client, @formcall/spec external', ['@formcall/spec', '@formcall/spec/client']], ['client + @formcall/spec', []]] as const) {
  const { minified, gzipped } = await minifiedSize([...external])
  console.log(`${label}: minified ${kib(minified)}, minified+gzipped ${kib(gzipped)}`)
}
