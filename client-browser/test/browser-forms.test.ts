import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { useBrowserSuite } from './support/browser-suite.js'

const suite = useBrowserSuite()

// The test page's form: <input name=name>, <input type=file name=photos multiple>, <input type=file name=avatar>,
// and two checkboxes named tags.

test('fromForm turns a filled-in form into params that a method receives with its files', async () => {
  const page = await suite.openPage()
  await page.fill('#profile input[name=name]', 'Ada Lovelace')
  await page.setInputFiles('#profile input[name=photos]', [
    { name: 'engine.txt', mimeType: 'text/plain', buffer: Buffer.from('analytical engine') },
    { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Note G') }
  ])
  await page.check('#profile input[name=tags][value=b]')

  const { local, described } = await page.evaluate(async (rpcUrl) => {
    const { createClient, fromForm } = window.formcall
    const params = fromForm(document.getElementById('profile') as HTMLFormElement)
    const kind = (value: unknown): string => value instanceof File ? `File ${value.name}` : `${typeof value} ${String(value)}`
    const local = Object.fromEntries(Object.entries(params).map(([name, value]) =>
      [name, Array.isArray(value) ? value.map(kind) : kind(value)]))
    return { local, described: await createClient(rpcUrl).files.describe(params) }
  }, suite.rpcUrl)

  assert.deepEqual(local, {
    name: 'string Ada Lovelace',
    photos: ['File engine.txt', 'File notes.md'],
    tags: ['string b']
  })
  assert.deepEqual(described, [{
    name: 'Ada Lovelace',
    photos: [
      { filename: 'engine.txt', type: 'text/plain', size: 17, sha256: sha256('analytical engine') },
      { filename: 'notes.md', type: 'text/markdown', size: 8, sha256: sha256('# Note G') }
    ],
    tags: ['b']
  }])
})

test('fromForm leaves out a single file input with no file, and gives empty lists for untouched list fields', async () => {
  const page = await suite.openPage()
  const params = await page.evaluate(() => {
    const params = window.formcall.fromForm(document.getElementById('profile') as HTMLFormElement)
    return { keys: Object.keys(params).sort(), photos: params.photos, tags: params.tags, name: params.name }
  })

  assert.deepEqual(params, { keys: ['name', 'photos', 'tags'], photos: [], tags: [], name: '' })
})

function sha256 (text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
