import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_INFO } from './discovery.js'
import type { OpenRpcInfo } from './openrpc.js'

/**
 * The `info` the command line gives a methods module's OpenRPC document unless told otherwise: the `name`, `version`
 * and `description` of the package the module belongs to (the nearest package.json above it that has a name), else
 * formcall's defaults (`formcall`, `0.0.0`). A package.json without a name (one that only sets `"type"`) is passed
 * over: it marks a module scope, not a project.
 *
 * @example
 * ```ts
 * await packageInfo('./methods.mjs') // { title: 'my-app', version: '1.4.0' }
 * ```
 */
export async function packageInfo (modulePath: string, cwd = process.cwd()): Promise<OpenRpcInfo> {
  const absolute = modulePath.startsWith('file:') ? fileURLToPath(modulePath) : resolve(cwd, modulePath)
  for (let dir = dirname(absolute); ; dir = dirname(dir)) {
    const manifest = await readManifest(join(dir, 'package.json'))
    if (typeof manifest?.name === 'string' && manifest.name !== '') return infoOf(manifest)
    if (dirname(dir) === dir) return DEFAULT_INFO
  }
}

/** A package.json's members, or undefined when there is none (or it is not JSON: not a manifest to read). */
async function readManifest (path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'))
    return typeof value === 'object' && value !== null ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

function infoOf (manifest: Record<string, unknown>): OpenRpcInfo {
  const text = (value: unknown): string | undefined => typeof value === 'string' && value.trim() !== '' ? value : undefined
  const description = text(manifest.description)
  return {
    title: text(manifest.name) ?? DEFAULT_INFO.title,
    version: text(manifest.version) ?? DEFAULT_INFO.version,
    ...(description === undefined ? {} : { description })
  }
}
