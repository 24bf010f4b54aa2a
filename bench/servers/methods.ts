import type { UploadedFile } from '@formcall/server'

/**
 * The methods every formcall bench server exposes (also the module's default export, for servers that import the
 * methods by module path, such as a worker pool). They do the least a real method would: `sink` reads its file to
 * the end (counting bytes, so the run can check nothing was lost), `echo` returns its argument.
 */
export const methods = {
  async sink (file: UploadedFile): Promise<{ bytes: number }> {
    let bytes = 0
    for await (const chunk of file) bytes += chunk.length
    return { bytes }
  },

  echo (value: unknown): unknown {
    return value
  }
}

export default methods
