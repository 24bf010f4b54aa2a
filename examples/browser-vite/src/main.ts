import { createClient, RpcError, TransportError } from '@formcall/client-browser'
// Types only: the server's methods (../cli-server) give the calls their parameter and result types, and no server
// code reaches the browser (the import is erased).
import type methods from '../../cli-server/src/methods.js'

// A path, not a URL: the page and the endpoint share an origin (Vite's dev proxy, or one server in production).
const api = createClient<typeof methods>('/rpc', { timeout: 10 * 60_000 })

const form = document.querySelector<HTMLFormElement>('#upload')!
const input = form.querySelector<HTMLInputElement>('input[type=file]')!
const bar = document.querySelector<HTMLProgressElement>('#bar')!
const out = document.querySelector<HTMLOutputElement>('#out')!
let controller: AbortController | undefined

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const file = input.files?.[0]
  if (file === undefined) return
  controller = new AbortController()
  bar.value = 0
  out.textContent = `uploading ${file.name}…`
  api
    .$with({ signal: controller.signal, onUploadProgress: ({ loaded, total }) => { bar.value = loaded / total } })
    .files.digest(file)
    .then(({ name, size, sha256 }) => { out.textContent = `${name}: ${size} bytes, sha256 ${sha256}` })
    .catch((err: unknown) => {
      if (err instanceof TransportError && err.kind === 'aborted') out.textContent = 'cancelled'
      else if (err instanceof RpcError) out.textContent = `${err.codeName}: ${err.message}`
      else out.textContent = `failed: ${String(err)}`
    })
})
document.querySelector('#cancel')!.addEventListener('click', () => controller?.abort())
