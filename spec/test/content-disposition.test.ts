import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatContentDisposition as contentDisposition } from '@formcall/spec'

test('a plain name is sent as both filename and filename*', () => {
  assert.equal(contentDisposition('report.csv'), `attachment; filename="report.csv"; filename*=UTF-8''report.csv`)
})

test('non-ASCII names get an ASCII fallback and the exact UTF-8 name', () => {
  assert.equal(contentDisposition('résumé (1).pdf'),
    `attachment; filename="r_sum_ (1).pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.pdf`)
})

test('quotes and backslashes cannot break out of the quoted filename', () => {
  assert.equal(contentDisposition('a"b\\c'), `attachment; filename="a_b_c"; filename*=UTF-8''a%22b%5Cc`)
})

test('no filename is a bare attachment', () => {
  assert.equal(contentDisposition(undefined), 'attachment')
})
