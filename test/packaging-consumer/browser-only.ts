// Type-checked by test/packaging.test.ts with the DOM library and no Node types: a page that knows no server code.
import { createClient, ErrorCode, fromForm, RpcError, TransportError, type Client } from '@formcall/client-browser'

interface Methods {
  echo: (text: string) => string
  profile: { update: (fields: { name: string, avatar?: File }) => { saved: boolean } }
}

const api: Client<Methods> = createClient<Methods>('/rpc', { timeout: 30_000 })
const untyped = createClient(new URL('/rpc', location.href))

export async function save (form: HTMLFormElement): Promise<string> {
  try {
    const { saved } = await api.profile.update(fromForm(form))
    const echoed: string = await api.echo(saved ? 'saved' : 'not saved')
    const raw: unknown = await untyped.$call('profile.update', { name: 'x' })
    return `${echoed} ${String(raw)}`
  } catch (err) {
    if (err instanceof RpcError && err.code === ErrorCode.FORBIDDEN) return 'forbidden'
    if (err instanceof TransportError) return err.kind
    throw err
  }
}
