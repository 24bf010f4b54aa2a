import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { useBrowserSuite } from './support/browser-suite.js'
import type { StandInMethods } from './support/stand-in-rpc.js'

const suite = useBrowserSuite()
const CSV = 'name,score\nAda,1\nCharles,2\n'

test('a download resolves to a DownloadedBlob with the bytes, the filename* name and the content type', async () => {
  const page = await suite.openPage()
  const download = await page.evaluate(async ({ rpcUrl, csv }) => {
    const api = window.formcall.createClient<StandInMethods>(rpcUrl)
    const result = await api.files.download(csv, 'résumé 2026.csv', 'text/csv; charset=utf-8')
    return {
      isBlob: result.blob instanceof Blob,
      text: await result.blob.text(),
      filename: result.filename,
      type: result.type,
      size: result.size
    }
  }, { rpcUrl: suite.rpcUrl, csv: CSV })

  assert.deepEqual(download, {
    isBlob: true,
    text: CSV,
    filename: 'résumé 2026.csv',
    type: 'text/csv; charset=utf-8',
    size: Buffer.byteLength(CSV)
  })
})

test('saveDownload has the browser save the file under the server\'s filename', async () => {
  const page = await suite.openPage()
  const [saved] = await Promise.all([
    page.waitForEvent('download'),
    page.evaluate(async ({ rpcUrl, csv }) => {
      const { createClient, saveDownload } = window.formcall
      saveDownload(await createClient<StandInMethods>(rpcUrl).files.download(csv, 'scores.csv', 'text/csv'))
    }, { rpcUrl: suite.rpcUrl, csv: CSV })
  ])

  assert.equal(saved.suggestedFilename(), 'scores.csv')
  assert.equal(await readFile(await saved.path(), 'utf8'), CSV)
})

test('a download whose connection breaks before its end rejects with a network TransportError, not a short Blob', async () => {
  const page = await suite.openPage()
  const error = await page.evaluate(async (rpcUrl) => {
    const { createClient, TransportError } = window.formcall
    try {
      await createClient<StandInMethods>(rpcUrl).files.truncatedDownload()
    } catch (err) {
      if (!(err instanceof TransportError)) throw err
      return { kind: err.kind }
    }
    throw new Error('the call resolved')
  }, suite.rpcUrl)

  assert.deepEqual(error, { kind: 'network' })
})
