// Type-checked by test/packaging.test.ts: the browser client typed from the server's methods (a type-only import).
import { createClient, RpcError, saveDownload, type DownloadedBlob } from '@formcall/client-browser'
import type { methods } from './server.js'

const api = createClient<typeof methods>('/api/rpc')

export async function upload (file: File): Promise<string> {
  const { sha256 } = await api
    .$with({ onUploadProgress: ({ loaded, total }) => { document.title = `${Math.round((loaded / total) * 100)}%` } })
    .files.digest(file)
  const report: DownloadedBlob = await api.files.report()
  saveDownload(report)
  // @ts-expect-error a string is not a file
  await api.files.digest('not a file')
  try {
    await api.refuse()
  } catch (err) {
    if (err instanceof RpcError) return err.codeName
  }
  return sha256
}
