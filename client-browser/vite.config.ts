import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// Library mode, ESM only: apps bundle this package themselves, so dist keeps @formcall/spec and its subpaths
// (`@formcall/spec/client`, the core both clients share) as imports (one copy of the error registry and the client
// core for both clients) and leaves minifying to the app's bundler.
export default defineConfig({
  build: {
    lib: {
      entry: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
      formats: ['es'],
      fileName: 'index'
    },
    rolldownOptions: { external: [/^@formcall\/spec(\/|$)/] },
    target: 'es2022',
    sourcemap: true,
    emptyOutDir: true
  }
})
