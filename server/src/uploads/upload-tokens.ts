import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Capability tokens for uploads: the token of an upload is an HMAC-SHA256 of its id under the server's secret,
 * handed to the client that created the upload (the `Upload-Token` header of the creation's answer) and required to
 * bind it to a call. An id alone, seen in a log or a URL or guessed, binds nothing; nothing is stored per upload, and
 * instances that share the secret accept each other's tokens.
 *
 * @example
 * ```ts
 * const tokens = new UploadTokens(secret)
 * const token = tokens.issue(id)
 * tokens.verify(id, token) // true
 * ```
 */
export class UploadTokens {
  readonly #secret: Uint8Array

  /** `secret`: at least 32 bytes. */
  constructor (secret: Uint8Array) {
    this.#secret = secret
  }

  /** The token of upload `id`, base64url (43 characters). */
  issue (id: string): string {
    return this.#mac(id).toString('base64url')
  }

  /** Whether `token` is the token of upload `id`; compared in constant time, so its bytes cannot be found one by one. */
  verify (id: string, token: unknown): boolean {
    if (typeof token !== 'string') return false
    const expected = this.#mac(id)
    const given = Buffer.from(token, 'base64url')
    // timingSafeEqual needs equal lengths; the length of a valid token is public anyway.
    return given.length === expected.length && timingSafeEqual(given, expected) && given.toString('base64url') === token
  }

  #mac (id: string): Buffer {
    // Prefixed, so a token of this scheme is never valid as an HMAC of the same secret used elsewhere.
    return createHmac('sha256', this.#secret).update(`formcall-upload:${id}`).digest()
  }
}
