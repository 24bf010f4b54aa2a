// Type-checked (never run) by test/packaging.test.ts against the installed tarballs, as a user's server code would be.
import { createHash } from 'node:crypto'
import Fastify from 'fastify'
import { createServer, download, ErrorCode, formcall, RpcError, UploadedFile } from '@formcall/server'
// The entry for methods modules, a subpath export: resolved through `exports` under every moduleResolution checked.
import { callContext, type CallContext } from '@formcall/server/methods'

export const methods = {
  echo: (text: string): string => text,
  files: {
    async digest (file: UploadedFile): Promise<{ name: string | null, sha256: string, method: string }> {
      const context: CallContext = callContext()
      const hash = createHash('sha256')
      for await (const chunk of file) hash.update(chunk)
      return { name: file.filename, sha256: hash.digest('hex'), method: context.method }
    },
    report: () => download(Buffer.from('a,b\n'), { filename: 'report.csv', type: 'text/csv' })
  },
  refuse (): never {
    throw new RpcError(ErrorCode.FORBIDDEN, 'only admins may do this', { need: 'admin' })
  }
}

const app = Fastify()
await app.register(formcall, { methods, path: '/api/rpc', limits: { fileSize: 2 ** 30 } })
// The plugin's declaration merging reaches the user's Fastify instance.
export const mountedAt: string = app.formcall.path

export const standalone = createServer({ methodsModule: new URL('./methods.js', import.meta.url), workers: 2 })
export const isUpload = (value: unknown): boolean => value instanceof UploadedFile
