import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createServer, type CreateServerOptions } from '@formcall/server'
import { partHead, multipartType, type PartSpec } from './multipart.js'
import { openRequest, postJson, type OpenRequest, type RawResponse } from './raw-http.js'

/** The methods module of the worker-pool tests, as workers import it. */
export const POOL_METHODS = new URL('./pool-methods.ts', import.meta.url)

/** A server for the worker-pool tests, with its Fastify app at hand (for `close()` mid-call). */
export interface PoolServer {
  readonly app: FastifyInstance
  /** The endpoint URL. */
  readonly url: string
  /** This server's own spool directory. */
  readonly tmpDir: string
  /** Names in `tmpDir` right now. */
  tmpFiles (): Promise<string[]>
  /** Calls `method` with positional `params` as JSON; resolves with status and parsed body. */
  call (method: string, ...params: unknown[]): Promise<CallResponse>
  /** Closes the app (if still open) and removes `tmpDir`. */
  close (): Promise<void>
}

/** A JSON call's answer. */
export interface CallResponse {
  status: number
  body: { id: unknown, result?: any, error?: { code: number, message: string, data?: any } }
}

/**
 * Starts `createServer()` on 127.0.0.1 (free port) serving pool-methods.ts, with a fresh spool directory.
 *
 * @example
 * ```ts
 * const server = await startPoolServer({ isolation: 'worker', workers: 2 })
 * const { body } = await server.call('echo', 1)
 * ```
 */
export async function startPoolServer (options: Omit<CreateServerOptions, 'tmpDir' | 'methods'>): Promise<PoolServer> {
  const tmpDir = await mkdtemp(join(tmpdir(), 'formcall-pool-spool-'))
  // A short shutdownTimeout unless a test sets one: a test that fails with a call still running then closes quickly.
  const app = createServer({
    methodsModule: POOL_METHODS,
    shutdownTimeout: 2000,
    ...options,
    tmpDir,
    fastify: { logger: false, ...options.fastify }
  })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `${address.replace('localhost', '127.0.0.1')}/rpc`
  let closed = false
  return {
    app,
    url,
    tmpDir,
    tmpFiles: async () => await readdir(tmpDir),
    call: async (method, ...params) => await callJson(url, method, params),
    close: async () => {
      if (!closed) {
        closed = true
        await app.close()
      }
      await rm(tmpDir, { recursive: true, force: true })
    }
  }
}

let nextId = 1

/** POSTs one call as JSON and parses the envelope. */
export async function callJson (url: string, method: string, params: unknown[]): Promise<CallResponse> {
  const response = await postJson(url, { method, params, id: nextId++ })
  return { status: response.status, body: response.json() }
}

/**
 * A multipart call whose body is sent piece by piece: the whole body is framed up front (Content-Length is exact),
 * and the test decides how much of it goes out and when.
 *
 * @example
 * ```ts
 * const upload = await PendingUpload.open(url, { method: 'uploads.digest', params: [{ $file: 'f' }] },
 *   [{ name: 'f', filename: 'a.bin', content: bytes }])
 * await upload.sendUntil(upload.contentStart(0) + 1000)
 * await upload.sendRest()
 * const res = await upload.response
 * ```
 */
export class PendingUpload {
  readonly #request: OpenRequest
  readonly #body: Buffer
  readonly #contentStarts: number[]
  #sent = 0
  #answered = false

  private constructor (request: OpenRequest, body: Buffer, contentStarts: number[]) {
    this.#request = request
    this.#body = body
    this.#contentStarts = contentStarts
    request.response.then(() => { this.#answered = true }, () => { this.#answered = true })
  }

  static async open (url: string, call: unknown, files: readonly PartSpec[]): Promise<PendingUpload> {
    const boundary = `pool-${Math.random().toString(16).slice(2)}`
    const pieces: Buffer[] = []
    const contentStarts: number[] = []
    let length = 0
    const add = (piece: Buffer): void => {
      pieces.push(piece)
      length += piece.length
    }
    for (const part of [{ name: 'json', content: JSON.stringify(call) }, ...files]) {
      add(Buffer.from(partHead(boundary, part)))
      contentStarts.push(length)
      add(Buffer.from(part.content))
      add(Buffer.from('\r\n'))
    }
    add(Buffer.from(`--${boundary}--\r\n`))
    const body = Buffer.concat(pieces)
    const request = await openRequest(url, {
      headers: { 'Content-Type': multipartType(boundary), 'Content-Length': String(body.length) }
    })
    return new PendingUpload(request, body, contentStarts.slice(1))
  }

  /** Offset in the body where file `index`'s content starts. */
  contentStart (index: number): number {
    return this.#contentStarts[index] as number
  }

  /** Sends the body up to (not including) `offset`. */
  async sendUntil (offset: number): Promise<void> {
    if (offset <= this.#sent) return
    const piece = this.#body.subarray(this.#sent, offset)
    this.#sent = offset
    await this.#request.write(piece)
  }

  /** Sends the rest of the body. */
  async sendRest (): Promise<void> {
    await this.sendUntil(this.#body.length)
  }

  /** Kills the connection mid-body. */
  destroy (): void {
    this.#request.destroy()
  }

  /** Whether the server has answered (or the connection ended). */
  get answered (): boolean { return this.#answered }

  /** The response, once the server closed the connection. */
  get response (): Promise<RawResponse> { return this.#request.response }
}

/** Threads of this process right now (`Threads:` of /proc/self/status). */
export async function threadCount (): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8')
  return Number(/^Threads:\s+(\d+)/m.exec(status)?.[1])
}
