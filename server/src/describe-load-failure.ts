import { execFile } from 'node:child_process'
import { isAbsolute } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * A one-line explanation of why importing a methods module failed. A syntax error names the file and line: from the
 * message (tsx/esbuild puts `file:line:column` there) or from the stack (Node's CommonJS loader puts `file:line` on its
 * first line). Node 20 gives an ES module's SyntaxError neither, so then `node --check` reparses the file (parsing
 * only: none of its code runs) to learn the line.
 *
 * @param err what `import()` threw, in this thread or (cloned by piscina) in a worker.
 * @param moduleUrl the methods module's file URL or path.
 * @example
 * ```ts
 * try { await import(url) } catch (err) { throw new Error(await describeLoadFailure(err, url), { cause: err }) }
 * ```
 */
export async function describeLoadFailure (err: unknown, moduleUrl: string): Promise<string> {
  const file = displayPath(moduleUrl)
  const error = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as { name?: unknown, message?: unknown, stack?: unknown }
  const message = String(error.message ?? err)
  if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `methods module ${file} could not be loaded: its worker ran out of memory; raise maxHeapMb (--max-heap-mb)`
  }
  const isSyntaxError = error.name === 'SyntaxError'
  const location = locationInMessage(message) ??
    (isSyntaxError ? locationInStack(String(error.stack ?? ''), message) ?? await locationFromCheck(file) : undefined)
  if (location !== undefined) {
    const where = `${location.file}:${location.line}`
    return location.file === file
      ? `methods module ${file} has a syntax error at ${where}: ${location.text}`
      : `methods module ${file} imports a file with a syntax error at ${where}: ${location.text}`
  }
  if (isSyntaxError) {
    // The module parses (node --check passed, or it is TypeScript), so the error is in a module it imports, and Node
    // does not say which one.
    return `methods module ${file} or a module it imports has a syntax error: ${oneLine(message)} ` +
      '(Node names no file for ES modules; run node --check on the modules it imports)'
  }
  return `methods module ${file} could not be loaded: ${oneLine(message)}`
}

interface SyntaxLocation { file: string, line: number, text: string }

/** esbuild (through tsx): `Transform failed with 1 error:\n/path/file.ts:4:0: ERROR: Unexpected "}"`. */
function locationInMessage (message: string): SyntaxLocation | undefined {
  const match = /^(.+?):(\d+):\d+: ERROR: (.+)$/m.exec(message)
  if (match === null) return undefined
  return { file: displayPath(match[1] as string), line: Number(match[2]), text: match[3] as string }
}

/** Node's decorated stack: `/path/file.js:4\n}\n^\n\nSyntaxError: Unexpected token '}'`. */
function locationInStack (stack: string, message: string): SyntaxLocation | undefined {
  const match = /^(file:\/\/\S+|\/.*|[A-Za-z]:\\.*):(\d+)$/.exec(stack.split('\n', 1)[0] ?? '')
  if (match === null) return undefined
  return { file: displayPath(match[1] as string), line: Number(match[2]), text: oneLine(message) }
}

/** Runs `node --check` on a JavaScript file and reads the location of its syntax error, if it has one. */
async function locationFromCheck (file: string): Promise<SyntaxLocation | undefined> {
  if (!/\.[cm]?js$/i.test(file) || !isAbsolute(file)) return undefined
  const stderr = await new Promise<string>((resolve) => {
    execFile(process.execPath, ['--check', file], { timeout: 10_000, env: { ...process.env, NODE_OPTIONS: '' } }, (_error, _stdout, stderr) => resolve(String(stderr)))
  })
  const text = /^SyntaxError: (.*)$/m.exec(stderr)?.[1]
  return text === undefined ? undefined : locationInStack(stderr, text)
}

/** A file URL as a path; other URLs (data:) shortened, they can be long. */
export function displayPath (pathOrUrl: string): string {
  if (pathOrUrl.startsWith('file:')) return fileURLToPath(pathOrUrl)
  return pathOrUrl.length > 100 ? `${pathOrUrl.slice(0, 100)}…` : pathOrUrl
}

function oneLine (text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}
