// The bench's methods (methods.ts) as plain JavaScript: the worker rows load them the way a deployed server loads
// compiled code, so a worker needs no TypeScript loader (which costs ~33 MiB per worker).
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'

// defineMethod from the installed @formcall/server, the copy the server runs (support/packages.ts installs it and
// names its directory in FORMCALL_BENCH_PACKAGES, which worker threads inherit).
const packages = process.env.FORMCALL_BENCH_PACKAGES
if (packages === undefined) throw new Error('FORMCALL_BENCH_PACKAGES is not set: run the bench with pnpm bench')
const { defineMethod } = await import(pathToFileURL(join(packages, 'node_modules', '@formcall', 'server', 'dist', 'methods.js')).href)

/** Reads the file to the end, counting bytes. */
export async function sink (file) {
  let bytes = 0
  for await (const chunk of file) bytes += chunk.length
  return { bytes }
}

/** Returns its argument. */
export function echo (value) {
  return value
}

/** `echo` with its param declared as a zod string, checked before the method runs. */
export const echoZod = defineMethod({ params: [z.string()] }, (value) => value)

export default { sink, echo, echoZod }
