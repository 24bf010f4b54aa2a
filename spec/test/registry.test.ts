import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { APPLICATION_ERROR_HTTP_STATUS, ERROR_REGISTRY, ErrorCode, httpStatusOf } from '../src/index.js'

/** The rows of PROTOCOL.md's error table (section 8): `| code | NAME | HTTP | when |`. */
async function documentedCodes (): Promise<Map<number, { name: string, httpStatus: number }>> {
  const text = await readFile(new URL('../PROTOCOL.md', import.meta.url), 'utf8')
  const section = text.slice(text.indexOf('## 8. Errors'), text.indexOf('## 9.'))
  assert.ok(section.length > 0, 'PROTOCOL.md has a section "## 8. Errors" followed by "## 9."')
  const rows = new Map<number, { name: string, httpStatus: number }>()
  for (const match of section.matchAll(/^\| (-\d+) \| ([A-Z_]+) \| (\d{3}) \|/gm)) {
    const code = Number(match[1])
    assert.ok(!rows.has(code), `PROTOCOL.md lists ${code} twice`)
    rows.set(code, { name: match[2] as string, httpStatus: Number(match[3]) })
  }
  return rows
}

const registry = new Map(Object.entries(ERROR_REGISTRY).map(([code, info]) => [Number(code), info]))

describe('the error-code registry and PROTOCOL.md', () => {
  it('every code in ERROR_REGISTRY is in the protocol\'s table with the same name and HTTP status', async () => {
    const documented = await documentedCodes()
    for (const [code, info] of registry) {
      assert.deepEqual(documented.get(code), { name: info.name, httpStatus: info.httpStatus }, `code ${code}`)
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
})
