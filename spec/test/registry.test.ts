import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { APPLICATION_ERROR_HTTP_STATUS, ERROR_REGISTRY, ErrorCode, httpStatusOf, statusRuleOf } from '../src/index.js'

/** The rows of PROTOCOL.md's error table (section 8): `| code | NAME | HTTP | JSON-RPC / krpc | when |`. */
async function documentedCodes (): Promise<Map<number, { name: string, httpStatus: number, envelopeStatus: number }>> {
  const text = await readFile(new URL('../PROTOCOL.md', import.meta.url), 'utf8')
  const section = text.slice(text.indexOf('## 8. Errors'), text.indexOf('## 9.'))
  assert.ok(section.length > 0, 'PROTOCOL.md has a section "## 8. Errors" followed by "## 9."')
  const rows = new Map<number, { name: string, httpStatus: number, envelopeStatus: number }>()
  for (const match of section.matchAll(/^\| (-\d+) \| ([A-Z_]+) \| (\d{3}) \| (\d{3}) \|/gm)) {
    const code = Number(match[1])
    assert.ok(!rows.has(code), `PROTOCOL.md lists ${code} twice`)
    rows.set(code, { name: match[2] as string, httpStatus: Number(match[3]), envelopeStatus: Number(match[4]) })
  }
  return rows
}

const registry = new Map(Object.entries(ERROR_REGISTRY).map(([code, info]) => [Number(code), info]))

describe('the error-code registry and PROTOCOL.md', () => {
  it('every code in ERROR_REGISTRY is in the protocol\'s table with the same name and both HTTP statuses', async () => {
    const documented = await documentedCodes()
    for (const [code, info] of registry) {
      assert.deepEqual(documented.get(code),
        { name: info.name, httpStatus: info.httpStatus, envelopeStatus: httpStatusOf(code, 'envelope') }, `code ${code}`)
    }
  })

  it('every code in the protocol\'s table is in ERROR_REGISTRY', async () => {
    const documented = await documentedCodes()
    assert.ok(documented.size > 0, 'the table has rows')
    for (const code of documented.keys()) assert.ok(registry.has(code), `PROTOCOL.md documents ${code}, the registry lacks it`)
  })

  it('codes are JSON-RPC server codes and names are unique', () => {
    for (const code of registry.keys()) assert.ok(code >= -32768 && code <= -32000, `${code} is in JSON-RPC's reserved range`)
    const names = [...registry.values()].map((info) => info.name)
    assert.equal(new Set(names).size, names.length)
  })

  it('every code has a message that says what happened', () => {
    for (const [code, info] of registry) assert.ok(info.message.length > 10, `code ${code}`)
  })

  it('ErrorCode maps each name back to its code', () => {
    for (const [code, info] of registry) assert.equal((ErrorCode as Record<string, number>)[info.name], code)
    assert.equal(Object.keys(ErrorCode).length, registry.size)
  })

  it('httpStatusOf gives the registered status, and 400 for application codes', () => {
    for (const [code, info] of registry) assert.equal(httpStatusOf(code), info.httpStatus)
    assert.equal(httpStatusOf(4001), APPLICATION_ERROR_HTTP_STATUS)
    assert.equal(APPLICATION_ERROR_HTTP_STATUS, 400)
  })

  it('under the envelope rule only transport codes keep a non-200 status', () => {
    const kept = [...registry].filter(([code]) => httpStatusOf(code, 'envelope') !== 200).map(([, info]) => info.name)
    assert.deepEqual(kept.sort(), ['ABORTED', 'HTTP_METHOD_NOT_ALLOWED', 'LIMIT_EXCEEDED', 'ORIGIN_NOT_ALLOWED', 'OVERLOADED',
      'PARSE_ERROR', 'SHUTTING_DOWN', 'UNSUPPORTED_MEDIA_TYPE', 'UPLOAD_STALLED'])
    assert.equal(httpStatusOf(4001, 'envelope'), 200)
  })

  it('a call speaks the envelope rule when it has "jsonrpc": "2.0" or krpc\'s pmhparams', () => {
    const table: Array<[unknown, string]> = [
      [{ jsonrpc: '2.0', method: 'a' }, 'envelope'],
      [{ method: 'a', params: [], pmhparams: null }, 'envelope'],
      [{ method: 'a', params: [] }, 'status'],
      [{ jsonrpc: '1.0', method: 'a' }, 'status'],
      [[{ jsonrpc: '2.0', method: 'a' }], 'status'],
      ['text', 'status'],
      [null, 'status']
    ]
    for (const [call, rule] of table) assert.equal(statusRuleOf(call), rule, JSON.stringify(call))
  })
})
