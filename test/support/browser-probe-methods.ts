import { createHash } from 'node:crypto'
import { callContext, type UploadedFile } from '@formcall/server'

async function digestOf (file: UploadedFile): Promise<{ name: string | null, size: number, sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of file) {
    hash.update(chunk)
    size += chunk.length
  }
  return { name: file.filename, size, sha256: hash.digest('hex') }
}

/**
 * Test-only methods, served by a demo server of their own. They run in the server's workers like the demo's, so what
 * they see is what any method sees; they report through the server log (`callContext().log`), which the test reads.
 */
export default {
  probe: {
    /**
     * Hashes `second` before `first`. Waiting for the later part while the earlier one is unread makes the server move
     * `first` to a temp file (a spool) in its tmpDir; `first` is then read back from there.
     */
    secondFirst: async (first: UploadedFile, second: UploadedFile) => {
      const ctx = callContext()
      try {
        const later = await digestOf(second)
        const earlier = await digestOf(first)
        return [earlier, later]
      } catch (err) {
        if (ctx.signal.aborted) {
          ctx.log.info({ reason: (ctx.signal.reason as Error).message, error: (err as Error).message }, 'probe.secondFirst: saw the abort')
        }
        throw err
      }
    }
  }
}
