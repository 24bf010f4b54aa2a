import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { defineMethod } from '../src/shape/define-method.js'
import { file, files } from '../src/shape/file-params.js'
import { declaredParams } from '../src/shape/function-params.js'
import { arrangeArgs, shapeOf } from '../src/shape/method-shape.js'
import { mediaTypeAccepted } from '../src/bind/file-gate.js'

const number = { '~standard': { version: 1 as const, vendor: 'test', validate: (v: unknown) => typeof v === 'number' ? { value: v } : { issues: [{ message: 'expected a number' }] } } }

describe('defineMethod refuses what is not a Standard Schema, at definition', () => {
  const NOT_SCHEMAS: Array<[string, unknown]> = [
    ['a string', 'number'],
    ['a class', Number],
    ['an object without ~standard in an array', [{ parse: () => 1 }]],
    ['a schema of another version', { '~standard': { version: 2, validate: () => ({ value: 1 }) } }],
    ['a named param that is not a schema', { a: 42 }],
    ['a result that is not a schema', undefined]
  ]
  for (const [what, params] of NOT_SCHEMAS) {
    test(what, () => {
      const definition = what.startsWith('a result') ? { params: [number], result: { type: 'number' } } : { params }
      assert.throws(() => defineMethod(definition as never, () => 1), (err: Error) => err instanceof TypeError && /not a Standard Schema/.test(err.message))
    })
  }

  test('without a function', () => {
    assert.throws(() => defineMethod({ params: [number] }, 'fn' as never), TypeError)
  })
})

describe('file() and files() refuse malformed constraints', () => {
  const BAD: Array<[string, () => unknown]> = [
    ['a negative maxSize', () => file({ maxSize: -1 })],
    ['a fractional maxSize', () => file({ maxSize: 1.5 })],
    ['maxCount on one file', () => file({ maxCount: 2 } as never)],
    ['an empty accept', () => file({ accept: [] })],
    ['a media type without a subtype', () => file({ accept: ['image'] })],
    ['a media type with a space', () => files({ accept: ['image/ png'] })],
    ['a non-boolean optional', () => file({ optional: 'yes' } as never)]
  ]
  for (const [what, make] of BAD) test(what, () => assert.throws(make, TypeError))
})

describe('media ranges', () => {
  const TABLE: Array<[readonly string[], string, boolean]> = [
    [['image/png'], 'image/png', true],
    [['image/png'], 'IMAGE/PNG', true],
    [['image/png'], 'image/pngx', false],
    [['image/*'], 'image/webp', true],
    [['image/*'], 'imagex/webp', false],
    [['text/plain'], 'text/plain; charset=utf-8', true],
    [['*/*'], 'application/x-anything', true],
    [['image/png', 'application/pdf'], 'application/pdf', true],
    [['image/png'], '', false]
  ]
  for (const [accept, type, accepted] of TABLE) {
    test(`${JSON.stringify(type)} ${accepted ? 'is' : 'is not'} in ${accept.join(', ')}`, () => {
      assert.equal(mediaTypeAccepted(accept, type), accepted)
    })
  }
})

describe('declared params are read from the source', () => {
  const shorthand = { store (upload: unknown, title = 'x') { return [upload, title] }, async * stream (a: unknown) { yield a } }
  class Service { static make (a: unknown, b: unknown) { return [a, b] } }
  const TABLE: Array<[string, Function, unknown]> = [
    ['an arrow', (a: unknown, b: unknown) => [a, b], { names: ['a', 'b'], max: 2 }],
    ['a default counts (fn.length would not)', shorthand.store, { names: ['upload', 'title'], max: 2 }],
    ['an async generator method', shorthand.stream, { names: ['a'], max: 1 }],
    ['a static class method', Service.make, { names: ['a', 'b'], max: 2 }],
    ['a rest parameter takes any number', (...xs: unknown[]) => xs, { names: ['xs'], max: undefined }],
    ['a destructured parameter is argN', ({ a }: { a: unknown }) => a, { names: ['arg0'], max: 1 }],
    ['a function expression', function named (x: unknown) { return x }, { names: ['x'], max: 1 }],
    ['a native function is unknown', Math.max, undefined],
    ['a bound function is unknown', ((a: unknown) => a).bind(null), undefined]
  ]
  for (const [what, fn, expected] of TABLE) test(what, () => assert.deepEqual(declaredParams(fn), expected))
})

describe('arrangeArgs', () => {
  const positional = shapeOf(defineMethod({ params: [number, number] }, (a, b) => (a as number) + (b as number)))
  const plain = shapeOf((a: number, b: number) => a + b)
  test('a named call to a positional method is matched by name, trailing absent names dropped', () => {
    assert.deepEqual(arrangeArgs(positional, 'm', { b: 2, a: 1 }, [{ b: 2, a: 1 }]), [1, 2])
    assert.deepEqual(arrangeArgs(positional, 'm', { a: 1 }, [{ a: 1 }]), [1])
    assert.deepEqual(arrangeArgs(positional, 'm', { b: 2 }, [{ b: 2 }]), [undefined, 2])
  })
  test('a named call to a plain function is one object argument (PROTOCOL.md 2.3)', () => {
    assert.deepEqual(arrangeArgs(plain, 'm', { a: 1 }, [{ a: 1 }]), [{ a: 1 }])
  })
  test('a positional call over the declared count is -32602 with the first extra position', () => {
    assert.throws(() => arrangeArgs(plain, 'm', [1, 2, 3], [1, 2, 3]), (err: { code: number, data: { issues: Array<{ path: unknown[] }> } }) =>
      err.code === -32602 && err.data.issues[0]?.path[0] === 2)
  })
})
