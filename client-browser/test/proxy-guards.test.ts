import assert from 'node:assert/strict'
import { test } from 'node:test'
import { useBrowserSuite } from './support/browser-suite.js'

const suite = useBrowserSuite()

test('printing, stringifying, awaiting and comparing the client in a page send no request', async () => {
  const page = await suite.openPage()
  const receivedBefore = suite.rpc.received.length
  const seen = await page.evaluate(async (rpcUrl) => {
    const api = window.formcall.createClient(rpcUrl)
    const printed = {
      string: typeof String(api),
      template: typeof `${api.files.store}`,
      concatenated: typeof ('' + String(api.files)),
      valueOfIsTheClient: api.valueOf() === api,
      json: JSON.stringify({ api, files: api.files }),
      awaited: (await api) === api,
      hasOwnThen: Object.prototype.hasOwnProperty.call(api, 'then'),
      constructorIsFunction: api.constructor === Function
    }
    console.log(api, api.files)
    return printed
  }, suite.rpcUrl)
  // Let a stray request, if any, reach the stand-in before counting.
  await page.evaluate(async (rpcUrl) => await window.formcall.createClient(rpcUrl).echo('flush'), suite.rpcUrl)

  assert.deepEqual(seen, {
    string: 'string',
    template: 'string',
    concatenated: 'string',
    valueOfIsTheClient: true,
    json: '{}',
    awaited: true,
    hasOwnThen: false,
    constructorIsFunction: true
  })
  assert.deepEqual(suite.rpc.received.slice(receivedBefore).map((request) => request.call.method), ['echo'])
})

test('the client gives the same proxy for the same path, has $call and $with only at its root, and cannot be assigned to', async () => {
  const page = await suite.openPage()
  const seen = await page.evaluate((rpcUrl) => {
    const api = window.formcall.createClient(rpcUrl) as unknown as Record<string, Record<string, unknown>>
    return {
      samePath: api.files === api.files,
      nestedCall: typeof api.files?.$call,
      otherDollarName: typeof api.$other,
      // Reflect.set reports what an assignment in strict code would throw for.
      assigned: Reflect.set(api, 'files', {}),
      stillAMethodPath: typeof api.files
    }
  }, suite.rpcUrl)

  assert.deepEqual(seen, { samePath: true, nestedCall: 'undefined', otherDollarName: 'undefined', assigned: false, stillAMethodPath: 'function' })
})
