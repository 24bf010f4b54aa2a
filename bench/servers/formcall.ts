/**
 * Child process: the formcall server (`createServer`) in the variant named by argv[2], serving `sink` and `echo`
 * at /rpc.
 */
import { serverPackage } from '../support/packages.js'
import { formcallServerOptions, formcallVariant } from './formcall-variants.js'
import { serveChild } from './serve-child.js'

const { createServer } = await serverPackage()
const app = createServer(formcallServerOptions(formcallVariant(process.argv[2])))
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
if (address === null || typeof address === 'string') throw new Error('the formcall server has no TCP address')
serveChild(address.port, async () => { await app.close() })
