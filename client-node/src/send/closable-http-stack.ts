import type * as Tus from 'tus-js-client'

/**
 * tus-js-client's Node HTTP stack with a way to abort every request it has open, and any it is asked to send later,
 * at once. tus-js-client's own `abort()` stops only the upload's current request, and its Node requests have no
 * timeout: a termination sent to a server that stopped answering (a black-holed link) would wait forever, and the
 * call with it. Closing the stack ends those.
 *
 * @example
 * ```ts
 * const stack = new ClosableHttpStack(new tus.DefaultHttpStack({ agent }))
 * const upload = new tus.Upload(file, { httpStack: stack, ... })
 * // later, when the termination takes too long:
 * stack.close()
 * ```
 */
export class ClosableHttpStack implements Tus.HttpStack {
  readonly #inner: Tus.HttpStack
  readonly #open = new Set<Tus.HttpRequest>()
  #closed = false

  constructor (inner: Tus.HttpStack) {
    this.#inner = inner
  }

  createRequest (method: string, url: string): Tus.HttpRequest {
    const request = this.#inner.createRequest(method, url)
    const send = request.send.bind(request)
    request.send = async (body: unknown) => {
      if (this.#closed) throw new Error(`tus: ${method} not sent: the upload was stopped`)
      this.#open.add(request)
      try {
        return await send(body)
      } finally {
        this.#open.delete(request)
      }
    }
    return request
  }

  getName (): string {
    return `closable ${this.#inner.getName()}`
  }

  /** Aborts every open request; later ones fail at once. */
  close (): void {
    this.#closed = true
    for (const request of this.#open) void request.abort()
  }
}
