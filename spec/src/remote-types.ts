/**
 * Types that carry a methods object's signatures over to a client.
 *
 * The server marks its file parameter types with `FILE_BRAND` / `FILES_BRAND` and its download results with
 * `DOWNLOAD_BRAND`; a client maps them to what it can send (`FileIn`) and what it returns for downloads (`FileOut`).
 * Only the brands cross the package boundary, so spec depends on neither side.
 */

/** Brand of a server-side uploaded file parameter. */
export const FILE_BRAND: unique symbol = Symbol.for('formcall.file')
/** Brand of a server-side list of every part with one name (`{"$files": name}`). */
export const FILES_BRAND: unique symbol = Symbol.for('formcall.files')
/** Brand of a value made by the server's `download()` helper. */
export const DOWNLOAD_BRAND: unique symbol = Symbol.for('formcall.download')

/**
 * Whether `value` carries `brand`. Brands are `Symbol.for` keys, the same in every loaded copy of a package, so this
 * holds where `instanceof` against one copy's class would not (a worker's bundle, two installed versions).
 *
 * @example
 * ```ts
 * hasBrand(value, DOWNLOAD_BRAND) // true for any download() result
 * ```
 */
export function hasBrand (value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
}

/** A Node readable, described structurally so spec needs no Node types. */
interface ReadableLike { pipe: (...args: never[]) => unknown; readable: boolean; read: (...args: never[]) => unknown }

/** What a method may return to send a file back. */
export type DownloadLike = Uint8Array | Blob | ReadableLike | { readonly [DOWNLOAD_BRAND]: true }

/** Maps one parameter type: file brands become `FileIn`, containers are mapped through. */
export type RemoteParam<T, FileIn> =
  T extends { readonly [FILE_BRAND]: true } ? FileIn
    : T extends { readonly [FILES_BRAND]: true } ? FileIn[]
      : T extends (infer E)[] ? RemoteParam<E, FileIn>[]
        : T extends readonly (infer E)[] ? readonly RemoteParam<E, FileIn>[]
          : T extends object ? { [K in keyof T]: RemoteParam<T[K], FileIn> }
            : T

/** Maps a result type: downloads become `FileOut`, everything else is the JSON value. */
export type RemoteResult<R, FileOut> = R extends DownloadLike ? FileOut : R

/** Maps a parameter tuple. */
type RemoteArgs<A extends unknown[], FileIn> = { [I in keyof A]: RemoteParam<A[I], FileIn> }

/** One remote method as the client sees it. */
export type RemoteFunction<F, FileIn, FileOut> = F extends (...args: infer A) => infer R
  ? (...args: Extract<RemoteArgs<A, FileIn>, unknown[]>) => Promise<RemoteResult<Awaited<R>, FileOut>>
  : never

/** A method's promise-returning form, without file mapping. */
export type Promisified<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never

/**
 * The client-side shape of a methods object: functions become promise-returning remote calls, nested objects become
 * namespaces.
 *
 * @example
 * ```ts
 * type Api = RemoteApi<typeof methods, Blob, Blob>
 * ```
 */
export type RemoteApi<M, FileIn, FileOut> = {
  [K in keyof M as K extends string ? K : never]: M[K] extends (...args: never[]) => unknown
    ? RemoteFunction<M[K], FileIn, FileOut>
    : M[K] extends object ? RemoteApi<M[K], FileIn, FileOut> : never
}
