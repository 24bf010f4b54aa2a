import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCode, RpcError } from '@formcall/spec'
import { listMethods, resolveMethod } from '../src/dispatch/resolve-method.js'

class Service {
  hidden (): string { return 'from the prototype' }
}

const methods = {
  echo: (value: unknown) => value,
  files: { store: () => 'stored', deeper: { x: () => 'x' } },
  service: new Service(),
  notAFunction: 42
}

const notFound = (name: string): void => {
  assert.throws(() => resolveMethod(methods, name), (err: unknown) => {
    assert.ok(err instanceof RpcError)
    assert.equal(err.code, ErrorCode.METHOD_NOT_FOUND)
    return true
  }, name)
}

test('dotted names resolve through nested namespaces', () => {
  assert.equal(resolveMethod(methods, 'echo'), methods.echo)
  assert.equal(resolveMethod(methods, 'files.store'), methods.files.store)
  assert.equal(resolveMethod(methods, 'files.deeper.x')(), 'x')
})

test('inherited and prototype members are never callable', () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__',
    'isPrototypeOf', 'echo.call', 'echo.apply', 'echo.bind', 'files.constructor', 'files.__proto__.constructor',
    'service.hidden', 'service.constructor']) {
    notFound(name)
  }
})

test('names that do not lead to an own function are not found', () => {
  for (const name of ['', '.', 'echo.', '.echo', 'files', 'files..store', 'nope', 'notAFunction', 'x'.repeat(300)]) {
    notFound(name)
  }
})

test('getters are refused rather than evaluated', () => {
  let evaluated = false
  const withGetter = Object.defineProperty({}, 'sneaky', { enumerable: true, get: () => { evaluated = true; return () => 1 } })
  assert.throws(() => resolveMethod(withGetter, 'sneaky'))
  assert.equal(evaluated, false)
})

test('listMethods lists every callable dotted name', () => {
  assert.deepEqual(listMethods(methods), ['echo', 'files.store', 'files.deeper.x'])
})
