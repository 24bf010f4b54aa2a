import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createClient } from '../src/index.js'
import { startRecordingServer, type RecordingServer } from './support/recording-server.js'

// A server reads a string starting with "__file__:" as krpc's file placeholder (PROTOCOL.md 3.1), so the client must
// not send one as text: the method would get a file, or the call would fail with MISSING_FILE.
let server: RecordingServer

before(async () => {
  server = await startRecordingServer()
})
after(async () => {
  await server.close()
})

const refused: { what: string; send: (api: ReturnType<typeof createClient>) => Promise<unknown>; where: string }[] = [
  { what: 'a positional argument', send: (api) => api.notes.add('__file__:1700-abc'), where: 'params[0]' },
  { what: 'a nested object member', send: (api) => api.notes.add({ note: { text: '__file__:x' } }), where: 'params[0].note.text' },
  { what: 'an array item', send: (api) => api.notes.add(['ok', '__file__:x']), where: 'params[0][1]' },
  { what: 'a named param of $call', send: (api) => api.$call('notes.add', { caption: '__file__:a' }), where: 'params.caption' }
]

describe('a string the server would read as a krpc file placeholder', () => {
  for (const { what, send, where } of refused) {
    test(`as ${what} fails the call before anything is sent, naming where it is and what to do`, async () => {
      const count = server.requests.length
      await assert.rejects(send(createClient(server.url)), (err: Error) => {
        assert.ok(err instanceof TypeError)
        assert.ok(err.message.includes(` at ${where}: a string starting with "__file__:" is read by the server as a krpc file placeholder`), err.message)
        assert.match(err.message, /pass the file itself .*give it another prefix/)
        return true
      })
      assert.equal(server.requests.length, count)
    })
  }

  test('is only one with at least one character after the prefix: other strings and object keys are sent as they are', async () => {
    const params = ['__file__:', 'x__file__:y', '__FILE__:y', { '__file__:key': 1 }]
    await createClient(server.url).notes.add(...params)
    assert.deepEqual(server.requests.at(-1)?.call.params, params)
  })
})

describe('an object the server would read as a file placeholder', () => {
  const objects: Array<[what: string, value: unknown, where: string]> = [
    ['{"$file": …} as a positional argument', { $file: 'f0' }, 'params[0]'],
    ['{"$files": …} nested in an object', { album: { $files: 'pages' } }, 'params[0].album'],
    ['{"$file": …} in an array', ['ok', { $file: 'x' }], 'params[0][1]']
  ]
  for (const [what, value, where] of objects) {
    test(`${what} fails the call before anything is sent, naming where it is`, async () => {
      const count = server.requests.length
      await assert.rejects(createClient(server.url).notes.add(value), (err: Error) => {
        assert.ok(err instanceof TypeError)
        assert.ok(err.message.includes(` at ${where}: an object whose only key is `), err.message)
        return true
      })
      assert.equal(server.requests.length, count)
    })
  }

  test('is only one with a single $file/$files key holding a non-empty string: others are sent as they are', async () => {
    const params = [{ $file: 'a', other: 1 }, { $file: '' }, { $file: 1 }, { $other: 'x' }]
    await createClient(server.url).notes.add(...params)
    assert.deepEqual(server.requests.at(-1)?.call.params, params)
  })
})
