import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { Readable } from 'node:stream'
import { MessageChannel } from 'node:worker_threads'
import { CreditReceiver, CreditSender } from '../src/dispatch/worker/credit-flow.js'
import { CREDIT_WINDOW } from '../src/dispatch/worker/messages.js'

test('bytes cross a real MessagePort intact and in order', async () => {
  const { port1, port2 } = new MessageChannel()
  const chunks = Array.from({ length: 200 }, (_, i) => Buffer.alloc(1000 + i, i % 256))
  const receiver = new CreditReceiver((n) => port2.postMessage({ ack: n }))
  port2.on('message', (m: { data?: Uint8Array, end?: true }) => {
    if (m.data !== undefined) receiver.receive(m.data)
    if (m.end === true) receiver.finish()
  })
  const sender = new CreditSender(Readable.from(chunks), {
    data: (chunk) => port1.postMessage({ data: chunk }, [chunk.buffer as ArrayBuffer]),
    end: () => port1.postMessage({ end: true }),
    error: (err) => assert.fail(err)
  })
  port1.on('message', (m: { ack: number }) => sender.ack(m.ack))
  const received: Buffer[] = []
  for await (const chunk of receiver) received.push(chunk)
  assert.deepEqual(Buffer.concat(received), Buffer.concat(chunks))
  port1.close()
})

test('a reader that stops reading stops the sender after the credit window', async () => {
  const { port1, port2 } = new MessageChannel()
  let produced = 0
  const source = new Readable({
    read () {
      produced++
      this.push(Buffer.alloc(1024))
    }
  })
  let posted = 0
  const sender = new CreditSender(source, {
    data: () => { posted++ },
    end: () => {},
    error: () => {}
  })
  // Nobody acks: after the window the source must be paused, however long we wait.
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.equal(posted, CREDIT_WINDOW)
  assert.ok(source.isPaused())
  sender.ack(CREDIT_WINDOW)
  await once(source, 'data')
  assert.ok(produced > CREDIT_WINDOW)
  source.destroy()
  port1.close()
  port2.close()
})
