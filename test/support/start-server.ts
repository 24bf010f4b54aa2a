import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type CreateServerOptions, type UploadsOptions } from '@formcall/server'

/** A formcall server listening on loopback for one test file. */
export interface RunningServer {
  /** The endpoint URL, e.g. `http://127.0.0.1:41234/rpc`. */
  readonly url: string
  /** `http://127.0.0.1:<port>`: the server's own origin. */
  readonly origin: string
  readonly port: number
  /** This server's spool directory (fresh, empty when the server starts). */
  readonly tmpDir: string
  /** The names in `tmpDir` right now. */
  tmpFiles (): Promise<string[]>
  /** Stops the server and removes its `tmpDir`. */
  close (): Promise<void>
}

/**
 * Starts `createServer(options)` on 127.0.0.1 with a free port and a fresh spool directory.
 *
 * @example
 * ```ts
 * const server = await startServer({ methods: { echo: (v: unknown) => v } })
 * after(() => server.close())
 * ```
 */
export async function startServer (options: Omit<CreateServerOptions, 'tmpDir'>): Promise<RunningServer> {
  const tmpDir = await mkdtemp(join(tmpdir(), 'formcall-test-spool-'))
  const app = createServer({ ...options, tmpDir, fastify: { logger: false, ...options.fastify } })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const origin = address.replace('localhost', '127.0.0.1')
  const port = Number(new URL(origin).port)
  return {
    url: `${origin}${options.path ?? '/rpc'}`,
    origin,
    port,
    tmpDir,
    tmpFiles: async () => await readdir(tmpDir),
    close: async () => {
      await app.close()
      await rm(tmpDir, { recursive: true, force: true })
    }
  }
}

/**
 * {@link startServer} with resumable uploads enabled in a fresh private directory, removed at close; `uploads` adds
 * to or overrides the upload options.
 *
 * @example
 * ```ts
 * const server = await startUploadServer({ methods }, { secret: 'a shared secret of at least 32 characters' })
 * ```
 */
export async function startUploadServer (options: Omit<CreateServerOptions, 'tmpDir'>, uploads: Partial<UploadsOptions> = {}): Promise<RunningServer & { directory: string }> {
  const directory = await mkdtemp(join(tmpdir(), 'formcall-test-uploads-'))
  const server = await startServer({ ...options, uploads: { directory, ...uploads } })
  return {
    ...server,
    directory,
    close: async () => {
      await server.close()
      await rm(directory, { recursive: true, force: true })
    }
  }
}
