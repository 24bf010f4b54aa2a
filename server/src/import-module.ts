import { pathToFileURL } from 'node:url'

const TYPESCRIPT = /\.[cm]?tsx?$/i
let typeScriptReady: Promise<boolean> | undefined

/**
 * Imports a module by file URL in the current thread. A TypeScript module (`.ts`, `.mts`, `.cts`, `.tsx`) is loaded
 * through tsx when it is installed (an optional peer dependency: formcall itself ships JavaScript), registered once per
 * thread because loader hooks do not cross into worker threads. Without tsx, Node's own type stripping (Node 22.18+)
 * gets its chance; if that fails too, the error says how to fix it.
 */
export async function importModule (url: string): Promise<Record<string, unknown>> {
  const isTypeScript = TYPESCRIPT.test(new URL(url).pathname)
  const withTsx = isTypeScript && await registerTypeScript()
  try {
    return await import(url) as Record<string, unknown>
  } catch (err) {
    if (isTypeScript && !withTsx && isUnloadableTypeScript(err)) {
      throw new Error(`${url} is TypeScript, which needs tsx to load here: install it (npm install tsx) or compile ` +
        'the module to JavaScript', { cause: err })
    }
    throw err
  }
}

/** A path (relative to the working directory) or URL as the URL that `import()` takes. */
export function toFileUrl (pathOrUrl: string | URL): string {
  if (pathOrUrl instanceof URL) return pathOrUrl.href
  return /^(file|data):/i.test(pathOrUrl) ? pathOrUrl : pathToFileURL(pathOrUrl).href
}

/** Registers tsx's ES module and CommonJS hooks in this thread once; false when tsx is not installed. */
async function registerTypeScript (): Promise<boolean> {
  typeScriptReady ??= (async () => {
    try {
      const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')])
      esm.register()
      cjs.register()
      return true
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return false
      throw err
    }
  })()
  return await typeScriptReady
}

function isUnloadableTypeScript (err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code
  return code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' ||
    code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING' || err instanceof SyntaxError
}
