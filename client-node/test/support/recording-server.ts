import { createHash } from 'node:crypto'
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Busboy } from '@fastify/busboy'

/** One multipart part as the server received it. */
export interface ReceivedPart {
  name: string
  /** `undefined` for a text field. */
  filename: string | undefined
  type: string
  size: number
  sha256: string
  /** The content as UTF-8, kept for parts up to 1 MiB. */
  text: string | undefined
}

/** One request as the server received it. */
export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** The parsed call: the JSON body, or the multipart `json` field. */
  call: { jsonrpc?: string; method: string; params?: unknown; id?: unknown }
  /** Multipart parts after `json`, in order (empty for a JSON body). */
  parts: ReceivedPart[]
  /** Names of all multipart parts in arrival order, `json` included. */
  partOrder: string[]
  /** Which connection carried it: equal numbers mean a reused socket. */
  connection: number
}

/** Decides the response; `received` resolves once the whole body was read (don't await it to answer early). */
export type Responder = (context: { req: IncomingMessage; res: ServerResponse; received: Promise<ReceivedRequest> }) => void | Promise<void>

export interface RecordingServer {
  url: string
  port: number
  requests: ReceivedRequest[]
  close: () => Promise<void>
}

const KEEP_TEXT_UP_TO = 1024 * 1024

/**
 * A bare node:http server on 127.0.0.1 that parses what the client sent (multipart through @fastify/busboy, hashing
 * file parts as they stream instead of keeping them) and answers with `respond`, by default an envelope whose result
 * echoes what arrived.
 */
export async function startRecordingServer (respond: Responder = echoReceived): Promise<RecordingServer> {
  const requests: ReceivedRequest[] = []
  const connections = new WeakMap<Socket, number>()
  const sockets = new Set<Socket>()
  let nextConnection = 1

  const server = http.createServer((req, res) => {
    const received = receive(req, connections.get(req.socket) ?? 0)
    received.then((r) => requests.push(r), () => {})
    void respond({ req, res, received })
  })
  server.on('connection', (socket) => {
    connections.set(socket, nextConnection++)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/rpc`,
    port,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })
  }
}

/** Reads a whole request: a JSON call, or a multipart body with its parts measured and hashed. */
export function receive (req: IncomingMessage, connection: number): Promise<ReceivedRequest> {
  const base = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, connection }
  const contentType = req.headers['content-type'] ?? ''
  if (!contentType.startsWith('multipart/form-data')) {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        try {
          resolve({ ...base, call: JSON.parse(Buffer.concat(chunks).toString('utf8')), parts: [], partOrder: [] })
        } catch (err) {
          reject(err)
        }
      })
      req.on('error', reject)
    })
  }
  return new Promise((resolve, reject) => {
    const parts: Promise<ReceivedPart>[] = []
    const partOrder: string[] = []
    let call: ReceivedRequest['call'] | undefined
    const busboy = Busboy({ headers: req.headers as { 'content-type': string }, limits: { fieldSize: 16 * 1024 * 1024 } })
    busboy.on('field', (name: string, value: string) => {
      partOrder.push(name)
      if (name === 'json' && call === undefined) call = JSON.parse(value)
      else parts.push(Promise.resolve(describe(name, undefined, 'text/plain', [Buffer.from(value)])))
    })
    busboy.on('file', (name: string, stream: NodeJS.ReadableStream, filename: string, _encoding: string, type: string) => {
      partOrder.push(name)
      parts.push(new Promise((resolvePart, rejectPart) => {
        const hash = createHash('sha256')
        const kept: Buffer[] = []
        let size = 0
        stream.on('data', (chunk: Buffer) => {
          size += chunk.length
          hash.update(chunk)
          if (size <= KEEP_TEXT_UP_TO) kept.push(chunk)
        })
        stream.on('end', () => resolvePart({
          name, filename, type, size, sha256: hash.digest('hex'), text: size <= KEEP_TEXT_UP_TO ? Buffer.concat(kept).toString('utf8') : undefined
        }))
        stream.on('error', rejectPart)
      }))
    })
    busboy.on('finish', () => {
      Promise.all(parts).then((all) => {
        if (call === undefined) reject(new Error('no json part'))
        else resolve({ ...base, call, parts: all, partOrder })
      }, reject)
    })
    busboy.on('error', reject)
    req.on('error', reject)
    req.pipe(busboy)
  })
}

function describe (name: string, filename: string | undefined, type: string, chunks: Buffer[]): ReceivedPart {
  const bytes = Buffer.concat(chunks)
  return { name, filename, type, size: bytes.length, sha256: sha256(bytes), text: bytes.toString('utf8') }
}

/** The sha256 hex digest of some bytes. */
export function sha256 (bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Answers with a JSON-RPC envelope. */
export function sendEnvelope (res: ServerResponse, status: number, envelope: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const body = JSON.stringify(envelope)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

/** The default responder: `result` is what the server received (without headers). */
export async function echoReceived ({ res, received }: Parameters<Responder>[0]): Promise<void> {
  try {
    const r = await received
    sendEnvelope(res, 200, { jsonrpc: '2.0', id: r.call.id ?? null, result: { call: r.call, parts: r.parts } })
  } catch (err) {
    sendEnvelope(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32600, message: String(err) } })
  }
}
