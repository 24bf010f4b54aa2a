// Type-checked by test/packaging.test.ts: the Node client typed from the server's methods object.
import { createClient, fileFromPath, RpcError, TransportError, type DownloadedFile } from '@formcall/client-node'
import type { methods } from './server.js'

const api = createClient<typeof methods>('http://127.0.0.1:8080/api/rpc', { timeout: 1000 })
const echoed: string = await api.echo('hi')
const digest: { name: string | null, sha256: string, method: string } = await api.files.digest(fileFromPath('./server.ts'))
const report: DownloadedFile = await api.files.report()
// @ts-expect-error a number is not a file
await api.files.digest(42)
try {
  await api.$with({ onUploadProgress: ({ loaded, total }) => { console.log(loaded, total ?? 'unknown') } }).refuse()
} catch (err) {
  if (err instanceof RpcError) console.log(err.code, err.codeName, err.data)
  else if (err instanceof TransportError) console.log(err.kind)
}
export const seen = [echoed, digest.sha256, report.filename]
