/**
 * The formcall packages as users install them: packed with pnpm (which builds each `dist` and applies
 * `publishConfig`) and installed with npm into a fresh directory, so every server and client the bench measures runs
 * the compiled package on plain Node — in worker threads too — not the TypeScript sources the tests run. The sources
 * run through the TypeScript loader, which wraps every function a call creates in a naming helper: a cost no
 * installed package has (a few µs of a small call).
 *
 * `pnpm bench` installs them once ({@link installPackages}) and hands the directory to its children in
 * FORMCALL_BENCH_PACKAGES.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL, fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type * as Server from '@formcall/server'
import type * as ServerMethods from '@formcall/server/methods'
import type * as ClientNode from '@formcall/client-node'

const run = promisify(execFile)
const REPO = fileURLToPath(new URL('../../', import.meta.url))
const PACKAGES = ['spec', 'server', 'client-node'] as const
/** Where the installed packages are, for the bench's children. */
export const PACKAGES_ENV = 'FORMCALL_BENCH_PACKAGES'

/** Packs the packages and installs them with their dependencies (and fastify, their peer); returns the directory. */
export async function installPackages (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'formcall-bench-packages-'))
  const packs = join(dir, 'packs')
  await mkdir(packs)
  const filters = PACKAGES.flatMap((name) => ['--filter', `./${name}`])
  await run('npx', ['--yes', 'pnpm@10.34.9', '-r', ...filters, 'pack', '--pack-destination', packs], { cwd: REPO, env: cleanEnv() })
  const tarballs = (await readdir(packs)).filter((name) => name.endsWith('.tgz')).map((name) => join(packs, name))
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'formcall-bench-packages', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs, 'fastify@5'],
    { cwd: dir, env: cleanEnv() })
  return dir
}

/** @formcall/server as installed. */
export async function serverPackage (): Promise<typeof Server> {
  return await import(installed('server')) as typeof Server
}

/**
 * `@formcall/server/methods` as installed: the same copy as {@link serverPackage}'s, so a method made with its
 * `defineMethod` runs in the call context of the server that calls it.
 */
export async function serverMethodsPackage (): Promise<typeof ServerMethods> {
  return await import(installed('server', 'methods.js')) as typeof ServerMethods
}

/** @formcall/client-node as installed. */
export async function clientNodePackage (): Promise<typeof ClientNode> {
  return await import(installed('client-node')) as typeof ClientNode
}

function installed (name: string, entry = 'index.js'): string {
  const dir = process.env[PACKAGES_ENV]
  if (dir === undefined) throw new Error(`${PACKAGES_ENV} is not set: run the bench with pnpm bench`)
  return pathToFileURL(join(dir, 'node_modules', '@formcall', name, 'dist', entry)).href
}

/** The environment without the workspace's package-manager variables, which would make npm act on the workspace. */
function cleanEnv (): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_)/i.test(key) || ['NODE_OPTIONS', 'INIT_CWD'].includes(key)) continue
    env[key] = value
  }
  return env
}
