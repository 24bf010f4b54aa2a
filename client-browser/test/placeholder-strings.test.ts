import assert from 'node:assert/strict'
import { test } from 'node:test'
import { useBrowserSuite } from './support/browser-suite.js'

// A server reads a string starting with "__file__:" as krpc's file placeholder (PROTOCOL.md 3.1), so the client must
// not send one as text: the method would get a file, or the call would fail with MISSING_FILE.
const suite = useBrowserSuite()

test('a string the server would read as a krpc file placeholder fails the call before anything is sent, naming where it is', async () => {
  const page = await suite.openPage()
  const receivedBefore = suite.rpc.received.length
  const failures = await page.evaluate(async (rpcUrl) => {
    const api = window.formcall.createClient(rpcUrl)
    const attempts: Array<() => Promise<unknown>> = [
      async () => await api.echo('__file__:1700-abc'),
      async () => await api.echo({ note: { text: '__file__:x' } }, new File(['a real file'], 'a.txt')),
      async () => await api.$call('echo', { caption: '__file__:a' })
    ]
    const outcomes: Array<{ name: string; message: string }> = []
    for (const attempt of attempts) {
      try {
        await attempt()
        outcomes.push({ name: 'resolved', message: '' })
      } catch (err) {
        outcomes.push({ name: (err as Error).name, message: (err as Error).message })
      }
    }
    return outcomes
  }, suite.rpcUrl)

  assert.deepEqual(failures.map(({ name }) => name), ['TypeError', 'TypeError', 'TypeError'])
  const wheres = ['params[0]', 'params[0].note.text', 'params.caption']
  failures.forEach(({ message }, index) => {
    assert.ok(message.includes(` at ${wheres[index]}: a string starting with "__file__:" is read by the server as a krpc file placeholder`), message)
    assert.match(message, /pass the file itself .*give it another prefix/)
  })
  assert.equal(suite.rpc.received.length, receivedBefore, 'no request was sent')
})

test('a string is refused only with at least one character after the prefix: other strings and object keys are sent', async () => {
  const page = await suite.openPage()
  const params = ['__file__:', 'x__file__:y', '__FILE__:y', { '__file__:key': 1 }]
  await page.evaluate(async ({ rpcUrl, params }) => await window.formcall.createClient(rpcUrl).echo(...params), { rpcUrl: suite.rpcUrl, params })

  assert.deepEqual(suite.rpc.received.at(-1)?.call.params, params)
})
