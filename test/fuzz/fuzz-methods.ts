/**
 * The methods the fuzz server serves, in both isolation modes (inline: imported; worker: each worker imports this
 * module). They read their files in every way a method can: whole, out of order, partly, not at all. Only types
 * come from the server package, so a worker loads little.
 */
import { createHash } from 'node:crypto'
import { FILE_BRAND, FILES_BRAND, hasBrand, RpcError } from '@formcall/spec'
import type { UploadedFile, UploadedFiles } from '@formcall/server'

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

/** Drops the call context (always the last argument). */
function paramsOf (args: unknown[]): unknown[] {
  return args.slice(0, -1)
}

export default {
  echo: (value: unknown) => value,
  digest: async (...args: unknown[]) => await digestAll(paramsOf(args)),
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
  ignore: () => 'ignored',
  fail: () => { throw new RpcError(4001, 'the fuzz method refuses this call', { why: 'test' }) },
  raise: () => { throw new Error('the fuzz method raised') },
  nested: { ok: () => 'ok' }
}
