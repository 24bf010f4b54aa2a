import assert from 'node:assert/strict'
import { test } from 'node:test'
import { filenameFromContentDisposition } from '@formcall/spec'

const cases: { what: string; header: string | null; filename: string | null }[] = [
  { what: 'no header gives no filename', header: null, filename: null },
  { what: 'a bare attachment gives no filename', header: 'attachment', filename: null },
  { what: 'a quoted filename is read without its quotes', header: 'attachment; filename="report.csv"', filename: 'report.csv' },
  { what: 'a token filename is read as it is', header: 'attachment; filename=report.csv', filename: 'report.csv' },
  { what: 'backslash escapes in a quoted filename are undone', header: 'attachment; filename="a \\"b\\" c.txt"', filename: 'a "b" c.txt' },
  { what: 'a semicolon inside quotes belongs to the filename', header: 'attachment; filename="a;b.txt"', filename: 'a;b.txt' },
  {
    what: 'filename* wins over filename, whichever comes first',
    header: 'attachment; filename*=UTF-8\'\'r%C3%A9sum%C3%A9%202026.csv; filename="resume 2026.csv"',
    filename: 'résumé 2026.csv'
  },
  {
    what: 'parameter names and the charset are case-insensitive, and the language tag is ignored',
    header: 'ATTACHMENT; FILENAME*=utf-8\'en\'%E2%82%AC.txt',
    filename: '€.txt'
  },
  { what: 'an ISO-8859-1 filename* is decoded byte by byte', header: 'attachment; filename*=iso-8859-1\'\'caf%E9.txt', filename: 'café.txt' },
  {
    what: 'a filename* with broken percent-encoding falls back to filename',
    header: 'attachment; filename="fallback.txt"; filename*=UTF-8\'\'%E2%82',
    filename: 'fallback.txt'
  },
  {
    what: 'a filename* in an unsupported charset falls back to filename',
    header: 'attachment; filename="f.txt"; filename*=koi8-r\'\'%C1',
    filename: 'f.txt'
  }
]

for (const { what, header, filename } of cases) {
  test(`Content-Disposition: ${what}`, () => {
    assert.equal(filenameFromContentDisposition(header), filename)
  })
}
