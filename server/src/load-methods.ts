import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describeLoadFailure, displayPath } from './describe-load-failure.js'
import { importModule } from './import-module.js'
import { listMethods, type MethodsObject } from './dispatch/resolve-method.js'

/**
 * Imports a methods module (`.js`, `.mjs`, `.cjs`, or TypeScript when tsx is installed) and returns its default export, or, when it
 * has none, the module's named exports.
 *
 * @throws Error when the file does not exist, cannot be loaded (a syntax error names its file and line, see
 * describe-load-failure.ts) or exports no function (see {@link assertExportsMethods}).
 * @example
 * ```ts
 * const methods = await loadMethods('./methods.mjs')
 * ```
 */
export async function loadMethods (modulePath: string, cwd = process.cwd()): Promise<MethodsObject> {
  const absolute = modulePath.startsWith('file:') ? fileURLToPath(modulePath) : resolve(cwd, modulePath)
  try {
    await stat(absolute)
  } catch {
    throw new Error(`methods module "${modulePath}" not found (looked at ${absolute})`)
  }
  const url = pathToFileURL(absolute).href
  let mod: Record<string, unknown>
  try {
    mod = await importModule(url)
  } catch (err) {
    throw new Error(await describeLoadFailure(err, url), { cause: err })
  }
  const methods = methodsOf(mod)
  assertExportsMethods(listMethods(methods as object), url)
  return methods as MethodsObject
}

/**
 * The methods object of an imported module: its default export, else its named exports. A TypeScript module compiled
 * as CommonJS (no `"type": "module"` near it) arrives with its default export one level down, `default.default`.
 */
export function methodsOf (mod: Record<string, unknown>): unknown {
  const value = mod.default ?? mod
  if (typeof value === 'object' && value !== null && Object.keys(value).every((key) => key === 'default' || key === '__esModule')) {
    const inner = (value as Record<string, unknown>).default
    if (typeof inner === 'object' && inner !== null) return inner
  }
  return value
}

/**
 * Refuses a methods module that offers nothing to call (`export default 42`, an object of plain values, a module with
 * no exports), so the mistake shows at start-up instead of as METHOD_NOT_FOUND on every call.
 *
 * @param names the callable names found in the module ({@link listMethods}).
 * @param moduleUrl the module's path or file URL, for the message.
 * @throws Error naming the module and what it must export.
 * @example
 * ```ts
 * assertExportsMethods(listMethods(methods), 'file:///srv/methods.mjs')
 * ```
 */
export function assertExportsMethods (names: readonly string[], moduleUrl: string): void {
  if (names.length > 0) return
  throw new Error(`methods module ${displayPath(moduleUrl)} offers no method: its default export (else its named ` +
    'exports) must be an object of functions, nested objects being namespaces, e.g. export default { echo: (s) => s }')
}
