import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RawId, batchIdLiterals, callIdLiteral, responseId } from '../src/parse/raw-id.js'
import { serializeError, serializeSuccess } from '../src/respond/envelope.js'
import { ErrorCode, RpcError } from '@formcall/spec'

describe('callIdLiteral finds the literal of the top-level id member', () => {
  const rows: Array<[string, string | undefined]> = [
    ['{"method":"m","id":12345678901234567890}', '12345678901234567890'],
    ['{"method":"m","params":[1],"id":1e2}', '1e2'],
    ['{ "method" : "m" , "id" : -1.50E+3 }\n', '-1.50E+3'],
    ['{"id":1.0,"method":"m"}', '1.0'],
    ['{"method":"m","id":7,"params":[{"id":8}]}', '7'],
    ['{"params":{"id":8},"id":-0,"method":"m"}', '-0'],
    ['{"method":"m","params":{"id":8}}', undefined],
    ['{"method":"m","params":[{"a":{"id":9}}],"x":[[1,{"id":2}],"]}{\\"id\\":3"]}', undefined],
    ['{"method":"m","id":"12"}', undefined],
    ['{"method":"m","id":null}', undefined],
    ['{"id":1,"method":"m","id":2.0}', '2.0'],
    ['{"id":1.0,"method":"m","id":"s"}', undefined],
    ['{"\\u0069d":3.0,"method":"m"}', '3.0'],
    ['{"method":"m","\\u0069d":3.0}', '3.0'],
    ['{"method":"m","x\\"id":5,"id":6.0}', '6.0'],
    ['{"method":"m","id":6.0,"x\\"id":5}', '6.0'],
    ['{"method":"say \\"id\\":1","id":2e0}', '2e0'],
    ['{"method":"m","s":"\\\\","id":4.0}', '4.0'],
    ['\ufeff{"method":"m","id":1E1}', '1E1'],
    ['{}', undefined]
  ]
  for (const [text, literal] of rows) {
    it(`${text} → ${String(literal)}`, () => {
      JSON.parse(text.replace(/^\ufeff/, '')) // every row is JSON, as the scan assumes
      assert.equal(callIdLiteral(text), literal)
    })
  }

  it('agrees with JSON.parse on generated calls: any key order, nested ids, strings full of quotes and brackets', () => {
    let seed = 7
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const pick = <T> (items: T[]): T => items[Math.floor(random() * items.length)] as T
    const literals = ['12345678901234567890', '-3', '0', '1e2', '1.0', '4.25E-1', '-0.0', '9007199254740993']
    const noise = (): unknown => pick<() => unknown>([
      () => ({ id: pick(literals.map(Number)), s: '"id": 1, ]}' }),
      () => ['{"id":2}', [{ id: 3 }], null, true],
      () => 'a \\"quoted\\" "id":9 string',
      () => 42
    ])()
    for (let round = 0; round < 200; round++) {
      const literal = pick(literals)
      const members = [`"method":"m"`, `"params":${JSON.stringify([noise(), noise()])}`, `"x":${JSON.stringify(noise())}`]
      members.splice(Math.floor(random() * (members.length + 1)), 0, `"id":${literal}`)
      const text = `{${members.join(pick([',', ' , ', ',\n']))}}`
      assert.equal(Number(callIdLiteral(text)), JSON.parse(text).id, text)
      assert.equal(callIdLiteral(text), literal, text)
    }
  })
})

describe('batchIdLiterals finds each entry\'s id literal in one pass', () => {
  const rows: Array<[string, Array<string | undefined>]> = [
    ['[{"method":"a","id":1.0},{"method":"b","id":"x"},{"jsonrpc":"2.0","method":"c"},5,[{"id":1}],{"id":12345678901234567890,"method":"d"}]',
      ['1.0', undefined, undefined, undefined, undefined, '12345678901234567890']],
    [' [ {"id" : -0 , "method":"a"} ] ', ['-0']],
    ['[]', []]
  ]
  for (const [text, literals] of rows) {
    it(text, () => assert.deepEqual(batchIdLiterals(text), literals))
  }
})

describe('responseId keeps the client\'s text only where JSON.stringify would change it', () => {
  const rows: Array<[string, string]> = [
    ['7', '7'],
    ['0.5', '0.5'],
    ['-12', '-12'],
    ['1e2', '1e2'],
    ['1.0', '1.0'],
    ['-0', '-0'],
    ['12345678901234567890', '12345678901234567890'],
    ['1e400', '1e400']
  ]
  for (const [literal, sent] of rows) {
    it(`${literal} is answered as ${sent}`, () => {
      const id = responseId(JSON.parse(literal) as number, () => literal)
      assert.equal(id instanceof RawId, literal !== JSON.stringify(JSON.parse(literal)))
      assert.equal(serializeSuccess(id, '"ok"'), `{"jsonrpc":"2.0","id":${sent},"result":"ok"}`)
      assert.equal(serializeError(id, new RpcError(ErrorCode.INVALID_PARAMS, 'no')),
        `{"jsonrpc":"2.0","id":${sent},"error":{"code":-32602,"message":"no"}}`)
    })
  }

  it('strings and null are answered as parsed, without looking for a literal', () => {
    const none = (): string => { throw new Error('looked for a literal') }
    assert.equal(responseId('1.0', none), '1.0')
    assert.equal(responseId(null, none), null)
  })
})
