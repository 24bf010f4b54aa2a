// The bench's methods with `echoZod` (methods.ts with `schemas`), as plain JavaScript for the worker rows: only the
// zod small-call rows load it, so zod sits in no other row's workers.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { z } from 'zod'
import { echo, sink } from './methods.mjs'

// defineMethod from the installed @formcall/server, the copy the server runs (support/packages.ts installs it and
// names its directory in FORMCALL_BENCH_PACKAGES, which worker threads inherit).
const packages = process.env.FORMCALL_BENCH_PACKAGES
if (packages === undefined) throw new Error('FORMCALL_BENCH_PACKAGES is not set: run the bench with pnpm bench')
const { defineMethod } = await import(pathToFileURL(join(packages, 'node_modules', '@formcall', 'server', 'dist', 'methods.js')).href)

/** `echo` with its param declared as a zod string, checked before the method runs. */
export const echoZod = defineMethod({ params: [z.string()] }, (value) => value)

export default { sink, echo, echoZod }
