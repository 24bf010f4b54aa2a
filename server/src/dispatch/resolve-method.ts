import { ErrorCode, RpcError } from '@formcall/spec'

/** A function the server may call: params first, then the call context. */
export type MethodFunction = (...args: any[]) => unknown

/**
 * A methods object: functions are methods, nested objects are namespaces (`files.store` → `methods.files.store`).
 *
 * @example
 * ```ts
 * const methods = { echo: (s: string) => s, files: { store: async (f: UploadedFile) => f.filename } }
 * ```
 */
export interface MethodsObject { readonly [name: string]: MethodFunction | MethodsObject }

const MAX_METHOD_NAME = 256

/**
 * Finds the function a dotted method name names, following only own, enumerable data properties at every step, so
 * inherited and prototype members (`constructor`, `__proto__`, `toString`, …) can never be reached.
 *
 * @throws RpcError METHOD_NOT_FOUND when the name does not lead to such a function.
 * @example
 * ```ts
 * resolveMethod(methods, 'files.store') // methods.files.store
 * resolveMethod(methods, 'toString')    // throws METHOD_NOT_FOUND
 * ```
 */
export function resolveMethod (methods: object, name: string): MethodFunction {
  const notFound = (): RpcError => new RpcError(
    ErrorCode.METHOD_NOT_FOUND,
    `method "${name.slice(0, MAX_METHOD_NAME)}" does not exist; check the name and its namespace`,
    { method: name.slice(0, MAX_METHOD_NAME) }
  )
  if (name.length === 0 || name.length > MAX_METHOD_NAME) throw notFound()
  let target: unknown = methods
  for (const segment of name.split('.')) {
    if (segment === '' || typeof target !== 'object' || target === null) throw notFound()
    const descriptor = Object.getOwnPropertyDescriptor(target, segment)
    // Getters are refused: evaluating one would run code chosen by the method name.
    if (descriptor === undefined || !descriptor.enumerable || !('value' in descriptor)) throw notFound()
    target = descriptor.value
  }
  if (typeof target !== 'function') throw notFound()
  return target as MethodFunction
}

/**
 * Lists every callable dotted name of a methods object, for start-up logs and the CLI.
 *
 * @example
 * ```ts
 * listMethods({ echo () {}, files: { store () {} } }) // ['echo', 'files.store']
 * ```
 */
export function listMethods (methods: object, prefix = ''): string[] {
  const names: string[] = []
  for (const key of Object.keys(methods)) {
    const descriptor = Object.getOwnPropertyDescriptor(methods, key)
    if (descriptor === undefined || !('value' in descriptor)) continue
    const value: unknown = descriptor.value
    if (typeof value === 'function') names.push(prefix + key)
    else if (typeof value === 'object' && value !== null) names.push(...listMethods(value, `${prefix}${key}.`))
  }
  return names
}
