import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { importModule } from './import-module.js'
import type { MethodsObject } from './dispatch/resolve-method.js'

/**
 * Imports a methods module (`.js`, `.mjs`, `.cjs`, or TypeScript when tsx is installed) and returns its default export, or, when it
 * has none, the module's named exports.
 *
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
  const methods = methodsOf(await importModule(pathToFileURL(absolute).href))
  if (typeof methods !== 'object' || methods === null) {
    throw new Error(`methods module "${modulePath}" must export an object of functions (export default { echo: (s) => s })`)
  }
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
