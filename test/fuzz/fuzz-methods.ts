/**
 * The methods the fuzz server serves, in both isolation modes (inline: imported; worker: each worker imports this
 * module). They read their files in every way a method can: whole, out of order, partly, not at all. They import
 * the server's methods entry only, so a worker loads no HTTP server.
 */
import { createHash } from 'node:crypto'
import { FILE_BRAND, FILES_BRAND, hasBrand, RpcError } from '@formcall/spec'
import { z } from 'zod'
import { defineMethod, file, files, type UploadedFile, type UploadedFiles } from '@formcall/server/methods'

/** Size and SHA-256 of one file. */
async function digestOne (file: UploadedFile): Promise<{ field: string, filename: string | null, size: number, sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of file) {
    size += chunk.length
    hash.update(chunk)
  }
  return { field: file.field, filename: file.filename, size, sha256: hash.digest('hex') }
}

/** Digests every file in `value`, at any depth (iteratively: params may be nested deep). */
async function digestAll (value: unknown): Promise<unknown[]> {
  const out: unknown[] = []
  const stack: unknown[] = [value]
  let visited = 0
  while (stack.length > 0 && visited++ < 100_000) {
    const item = stack.pop()
    if (hasBrand(item, FILE_BRAND)) out.push(await digestOne(item as UploadedFile))
    else if (hasBrand(item, FILES_BRAND)) {
      for await (const file of item as UploadedFiles) out.push(await digestOne(file))
    } else if (Array.isArray(item)) stack.push(...[...item].reverse())
    else if (typeof item === 'object' && item !== null) stack.push(...Object.values(item).reverse())
  }
  return out
}

/** A PNG signature and IHDR start: what the sniffer needs to call bytes a PNG. */
export const PNG_HEAD = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')

export default {
  echo: (...values: unknown[]) => values[0],
  digest: async (...args: unknown[]) => await digestAll(args),
  text: async (file: UploadedFile) => (hasBrand(file, FILE_BRAND) ? await file.text() : String(file)),
  /** Reads its second file before its first: the first must be spooled. */
  reverse: async (a: UploadedFile, b: UploadedFile) => {
    const second = hasBrand(b, FILE_BRAND) ? await digestOne(b) : null
    const first = hasBrand(a, FILE_BRAND) ? await digestOne(a) : null
    return [first, second]
  },
  /** Reads one chunk and returns, leaving the rest of the part unread. */
  partial: async (file: UploadedFile) => {
    if (!hasBrand(file, FILE_BRAND)) return null
    for await (const chunk of file) return (chunk as Buffer).length
    return 0
  },
  ignore: (..._files: unknown[]) => 'ignored',
  fail: (..._params: unknown[]) => { throw new RpcError(4001, 'the fuzz method refuses this call', { why: 'test' }) },
  raise: (..._params: unknown[]) => { throw new Error('the fuzz method raised') },
  nested: { ok: () => 'ok' },
  /** Schema-checked params and a bounded, sniffed file: mutations hit every refusal of PROTOCOL.md section 12. */
  checked: defineMethod({
    params: { title: z.string().max(20), photo: file({ maxSize: 64 * 1024, accept: ['image/png'] }), more: files({ maxCount: 2, optional: true }) }
  }, async ({ title, photo, more }) => [title, await digestOne(photo), more === undefined ? [] : await digestAll(more)]),
  positional: defineMethod({ params: [z.number().int(), z.string().transform((s) => s.length)] }, (a, b) => a + b)
}
