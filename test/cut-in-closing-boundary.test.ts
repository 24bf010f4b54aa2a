/**
 * An upload cut inside its closing delimiter, after every file part arrived whole, while the method reads the second
 * file first (so the first one sits in a spool file): the request is over before the method gets to the spooled
 * file. Once this crashed the server in worker mode (the spool's read stream threw in the main thread) and hung the
 * method inline (the spooled file's stream neither ended nor failed).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { UploadedFile } from '@formcall/server'
import { randomContent } from './support/bytes.js'
import { PoolChannel } from './support/pool-channel.js'
import { POOL_METHODS } from './support/pool-server.js'
import { multipartBody, multipartType } from './support/multipart.js'
import { openRequest, postJson } from './support/raw-http.js'
import { readInOrder, type FileSeen } from './support/read-in-order.js'
import { startServer, type RunningServer } from './support/start-server.js'
import { waitFor } from './support/wait.js'

const ROUNDS = 20
const MiB = 1024 * 1024
const PATIENCE = 20_000

for (const isolation of ['inline', 'worker'] as const) {
  describe(`uploads cut inside the closing delimiter (${isolation})`, () => {
    let server: RunningServer
    let channel: PoolChannel
    const inlineReports = new Map<string, FileSeen[]>()
    before(async () => {
      channel = new PoolChannel()
      server = await startServer(isolation === 'inline'
        ? {
            methods: {
              echo: (value: unknown) => value,
              cut: {
                readInOrder: async (files: UploadedFile[], order: number[], _channel: string, id: string) => {
                  inlineReports.set(id, await readInOrder(files, order))
                }
              }
            }
          }
        : { methodsModule: POOL_METHODS, workers: 2 })
    })
    after(async () => {
      await server.close()
      channel.close()
    })

    it(`${ROUNDS} such cuts: every method's reads finish (a spooled file fails, never hangs) and the server keeps serving`, async () => {
      const content = randomContent(MiB)
      for (let round = 0; round < ROUNDS; round++) {
        const id = `cut-${round}`
        const call = { method: 'cut.readInOrder', params: [[{ $file: 'a' }, { $file: 'b' }], [1, 0], channel.name, id] }
        const body = multipartBody('closing', [
          { name: 'json', content: JSON.stringify(call) },
          { name: 'a', filename: 'a.bin', content },
          { name: 'b', filename: 'b.bin', content }
        ])
        const open = await openRequest(server.url, { headers: { 'Content-Type': multipartType('closing'), 'Content-Length': String(body.length) } })
        await open.write(body.subarray(0, body.length - 1 - (round % 4)))
        open.destroy()
        const reported = (): FileSeen[] | undefined => isolation === 'inline'
          ? inlineReports.get(id)
          : channel.heard.find((event) => event.event === 'report' && event.id === id)?.files as FileSeen[] | undefined
        await waitFor(() => reported() !== undefined, `the method of round ${round} finishes its reads`, PATIENCE)
        for (const file of reported() as FileSeen[]) assert.ok(file.ended || file.error !== null, JSON.stringify(file))
        assert.equal((await postJson(server.url, { method: 'echo', params: [round] })).json().result, round)
      }
      await waitFor(async () => (await server.tmpFiles()).length === 0, 'spool files removed', PATIENCE)
    })
  })
}
