import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fromForm } from '../src/from-form.js'

test('fromForm on a FormData gives strings and Files, and an array for a name with several values', () => {
  const photo = new File(['p'], 'p.jpg', { type: 'image/jpeg' })
  const data = new FormData()
  data.append('title', 'Holiday')
  data.append('photo', photo)
  data.append('tag', 'sea')
  data.append('tag', 'sun')

  const params = fromForm(data)
  assert.deepEqual(Object.keys(params), ['title', 'photo', 'tag'])
  assert.equal(params.title, 'Holiday')
  assert.ok(params.photo instanceof File)
  assert.equal(params.photo.name, 'p.jpg')
  assert.deepEqual(params.tag, ['sea', 'sun'])
})

test('fromForm drops the empty File a file input submits when nothing was chosen, but keeps an empty file that has a name', () => {
  const data = new FormData()
  data.append('avatar', new File([], '', { type: 'application/octet-stream' }))
  data.append('empty', new File([], 'empty.txt'))

  const params = fromForm(data)
  assert.deepEqual(Object.keys(params), ['empty'])
  assert.equal((params.empty as File).name, 'empty.txt')
})

test('a field named __proto__ is an ordinary key of the params, not their prototype', () => {
  const data = new FormData()
  data.append('__proto__', 'x')

  const params = fromForm(data)
  assert.equal(Object.getPrototypeOf(params), Object.prototype)
  assert.equal(Object.getOwnPropertyDescriptor(params, '__proto__')?.value, 'x')
})
