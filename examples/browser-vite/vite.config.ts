import { defineConfig } from 'vite'

// The formcall server the dev proxy forwards to: ../cli-server's `npm start` listens here.
const target = process.env.FORMCALL_TARGET ?? 'http://127.0.0.1:8080'

export default defineConfig({
  server: {
    proxy: {
      // Not the string shorthand `'/rpc': target`: that sets changeOrigin: true, which rewrites Host to the target's
      // (127.0.0.1:8080) while the browser's Origin stays the page's (http://localhost:5173), so the server's
      // same-origin check answers 403 ORIGIN_NOT_ALLOWED. With changeOrigin: false the server sees the Host the browser
      // sent, the page's own, and the call is same-origin, as it will be in production behind one host.
      '/rpc': { target, changeOrigin: false }
    }
  }
})
