/**
 * Child process: the formcall server (`createServer`) in the variant named by argv[2], serving `sink` and `echo` at
 * /rpc. With argv[3] `uploads`, resumable uploads are on too (`<path>/uploads/`), stored in a fresh private directory
 * removed at exit; with argv[3] `schemas`, `echoZod` is served too (and zod loaded).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serverPackage } from '../support/packages.js'
import { formcallServerOptions, formcallVariant } from './formcall-variants.js'
import { serveChild } from './serve-child.js'

const { createServer } = await serverPackage()
const uploads = process.argv[3] === 'uploads' ? await mkdtemp(join(tmpdir(), 'formcall-bench-uploads-')) : undefined
const app = createServer({
  ...await formcallServerOptions(formcallVariant(process.argv[2]), { schemas: process.argv[3] === 'schemas' }),
  ...(uploads === undefined ? {} : { uploads: { directory: uploads } })
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('the formcall server has no TCP address')
serveChild(address.port, async () => {
  await app.close()
  if (uploads !== undefined) await rm(uploads, { recursive: true, force: true })
})
