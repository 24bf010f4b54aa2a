// Run by test/packaging.test.ts with plain node: the packages loaded with require() (require(esm), Node >= 20.19),
// a server and a client in one CommonJS file, and one real call of each kind over 127.0.0.1.
'use strict'
const { createHash } = require('node:crypto')
const { createServer, RpcError, UploadedFile } = require('@formcall/server')
const client = require('@formcall/client-node')

async function main () {
  const app = createServer({
    methods: {
      echo: (text) => text,
      async digest (file) {
        const hash = createHash('sha256')
        for await (const chunk of file) hash.update(chunk)
        return { uploaded: file instanceof UploadedFile, sha256: hash.digest('hex') }
      },
      refuse () { throw new RpcError(4001, 'refused in CommonJS', { from: 'cjs' }) }
    }
  })
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  try {
    const api = client.createClient(`${address}/rpc`)
    const echoed = await api.echo('required')
    const digest = await api.digest(Buffer.from('hello from require'))
    let refused
    try {
      await api.refuse()
    } catch (err) {
      refused = { isRpcError: err instanceof client.RpcError, code: err.code, data: err.data }
    }
    console.log(JSON.stringify({ echoed, digest, refused }))
  } finally {
    await app.close()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
