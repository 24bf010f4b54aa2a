import { RpcError, type UploadedFile } from '@formcall/server'
import { createClient, fileFromPath, isRpcError } from '@formcall/client-node'
import type { Page } from 'playwright-core'

/** The early answers a client can provoke with a big upload, with the code each must get. */
export const EARLY_ANSWERS = [
  { what: 'the method throws before reading its file', method: 'refuse', code: 4001 },
  { what: 'an unknown method with a file attached', method: 'no.such.method', code: -32601 },
  { what: 'a file over the fileSize limit, hit mid-upload', method: 'digest', code: -32004 }
] as const

/** The methods the early answers call (`digest` reads its file whole; serve it with a small `fileSize`). */
export function earlyAnswerMethods (name: string): Record<string, (...args: any[]) => unknown> {
  return {
    whoami: () => name,
    refuse: (_file: UploadedFile) => { throw new RpcError(4001, 'refused before reading the file') },
    digest: async (file: UploadedFile) => {
      let size = 0
      for await (const chunk of file) size += (chunk as Buffer).length
      return size
    }
  }
}

/** How a run of tries ended: `lost` names each try that did not get its answer as the expected RpcError. */
export interface TriesOutcome { tries: number, lost: string[] }

/** `tries` calls from the Node client to `url`, each uploading the file at `path`, cycling through the early answers. */
export async function earlyAnswersToNodeClient (url: string, path: string, tries: number): Promise<TriesOutcome> {
  const api = createClient(url) as any
  const lost: string[] = []
  for (let i = 0; i < tries; i++) {
    const kind = EARLY_ANSWERS[i % EARLY_ANSWERS.length] as typeof EARLY_ANSWERS[number]
    const outcome: unknown = await api[kind.method](fileFromPath(path)).then(() => 'resolved', (err: unknown) => err)
    if (!(isRpcError(outcome) && outcome.code === kind.code)) lost.push(`${kind.what}: ${String(outcome)}`)
  }
  return { tries, lost }
}

/**
 * `tries` calls from the browser client on `page` (which has it on `window.formcall`) to `url`, each uploading a
 * Blob of `size` bytes made in the page, cycling through the early answers.
 */
export async function earlyAnswersToBrowserClient (page: Page, url: string, size: number, tries: number): Promise<TriesOutcome> {
  await page.waitForFunction(() => window.formcall !== undefined)
  const outcomes = await page.evaluate(async ({ rpcUrl, bytes, count, kinds }) => {
    const blob = new Blob([new Uint8Array(bytes)])
    const api = window.formcall.createClient(rpcUrl) as any
    const seen: string[] = []
    for (let i = 0; i < count; i++) {
      const kind = kinds[i % kinds.length] as { method: string, code: number }
      try {
        await api[kind.method](blob)
        seen.push(`${kind.method}: resolved`)
      } catch (err) {
        const code = (err as { code?: unknown }).code
        seen.push(code === kind.code ? 'answered' : `${kind.method}: ${String(err)} (code ${String(code)})`)
      }
    }
    return seen
  }, { rpcUrl: url, bytes: size, count: tries, kinds: EARLY_ANSWERS.map(({ method, code }) => ({ method, code })) })
  return { tries: outcomes.length, lost: outcomes.filter((outcome) => outcome !== 'answered') }
}
