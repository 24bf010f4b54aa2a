import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'

/**
 * A TCP proxy in front of a server, for the resumable-upload tests. It cuts the connection when the bytes it forwarded
 * towards the server (over every connection, headers included) reach each of `cuts`, destroying both sockets as a
 * dropped link would. `down()` cuts
 * every connection and holds new ones (or refuses them) until `up(port)` points it at a server again, as a server
 * that is restarted behind a stable address.
 */
export class CuttingProxy {
  readonly #server: TcpServer
  readonly #cuts: number[]
  readonly #sockets = new Set<Socket>()
  readonly #held: Socket[] = []
  #target: number | undefined
  #refuse = false
  /** Bytes forwarded towards the server so far. */
  forwarded = 0
  /** Connections cut at an offset so far. */
  cut = 0

  /** A proxy to `targetPort` on 127.0.0.1 that cuts at the byte offsets `cuts`. */
  constructor (targetPort: number, cuts: number[] = []) {
    this.#target = targetPort
    this.#cuts = [...cuts].sort((a, b) => a - b)
    this.#server = createTcpServer((client) => this.#accept(client))
  }

  /** Starts listening on 127.0.0.1; resolves with its origin. */
  async listen (): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    return this.origin
  }

  /** `http://127.0.0.1:<port>`, once listening. */
  get origin (): string {
    const address = this.#server.address()
    if (address === null || typeof address !== 'object') throw new Error('the cutting proxy is not listening yet')
    return `http://127.0.0.1:${address.port}`
  }

  /** Cuts every connection; new ones are held until `up()`, or destroyed at once with `refuse`. */
  down ({ refuse = false } = {}): void {
    this.#target = undefined
    this.#refuse = refuse
    for (const socket of this.#sockets) socket.destroy()
  }

  /** Forwards to `port` from now on, held connections first. */
  up (port: number): void {
    this.#target = port
    for (const client of this.#held.splice(0)) if (!client.destroyed) this.#relay(client, port)
  }

  /** Closes the proxy and every connection through it. */
  async close (): Promise<void> {
    for (const socket of [...this.#sockets, ...this.#held]) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #accept (client: Socket): void {
    client.on('error', () => client.destroy())
    if (this.#target !== undefined) {
      this.#relay(client, this.#target)
    } else if (this.#refuse) {
      client.destroy()
    } else {
      client.pause()
      this.#held.push(client)
    }
  }

  #relay (client: Socket, port: number): void {
    const upstream = connect({ port, host: '127.0.0.1' })
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
    }
    const kill = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', kill)
    upstream.on('error', kill)
    client.on('close', kill)
    upstream.on('close', kill)
    upstream.pipe(client)
    client.on('data', (chunk: Buffer) => {
      const next = this.#cuts[0]
      if (next !== undefined && this.forwarded + chunk.length >= next) {
        const keep = next - this.forwarded
        this.#cuts.shift()
        this.forwarded += keep
        this.cut++
        upstream.write(chunk.subarray(0, keep), () => kill())
        client.pause()
        return
      }
      this.forwarded += chunk.length
      if (!upstream.write(chunk)) {
        client.pause()
        upstream.once('drain', () => client.resume())
      }
    })
    client.resume()
  }
}
