/**
 * UploadSession and FileSlot (with UploadedFile and the disk spool), driven as handle-multipart-call.ts drives them:
 * placeholders bound, bind(), parts handed over as they arrive, onEnd(), settle() once the method returned, fail()
 * on any failure, cleanup() when the request is over. The body is written by the test into real streams, with the
 * parser's backpressure, so a session that forgot to move a part out of the way deadlocks here as it would on a
 * socket. Every row ends with the spool directory empty after cleanup.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, RpcError } from '@formcall/spec'
import { UploadedFile, UploadedFiles } from '../src/bind/uploaded-file.js'
import type { Limits } from '../src/options.js'
import { BIG, Rig, codeOf, filePart, fingerprint, outcomeOf, textPart, type PartSpec } from './support/upload-rig.js'

/** Guards against a deadlock hanging the run; no row comes near it. */
const HANG = { timeout: 20_000 }

/** Runs `fn` with a fresh rig; the spool directory must be empty once the request is cleaned up. */
async function withRig (limits: Partial<Limits>, fn: (rig: Rig) => Promise<void>): Promise<void> {
  const rig = await Rig.open(limits)
  let left: string[]
  try {
    await fn(rig)
  } finally {
    left = await rig.close()
  }
  assert.deepEqual(left, [], 'every spool file is removed at cleanup')
}

/** The file objects bound for a params object of placeholders, by key. */
class Bound {
  readonly #args: Record<string, unknown>
  constructor (args: Record<string, unknown>) { this.#args = args }
  file (key: string): UploadedFile {
    const value = this.#args[key]
    assert.ok(value instanceof UploadedFile, `${key} is bound to an UploadedFile`)
    return value
  }

  files (key: string): UploadedFiles {
    const value = this.#args[key]
    assert.ok(value instanceof UploadedFiles, `${key} is bound to UploadedFiles`)
    return value
  }
}

function bind (rig: Rig, params: Record<string, unknown>): Bound {
  const [args] = rig.bindArgs([structuredClone(params)])
  return new Bound(args)
}

/** A file's bytes as a fingerprint, or the code its stream failed with. */
async function tryRead (file: UploadedFile): Promise<string | number> {
  const outcome = await outcomeOf(file.bytes())
  return outcome.ok ? fingerprint(outcome.value as Buffer) : codeOf(outcome)
}

const fp = (spec: PartSpec): string => fingerprint(spec.bytes)
const aborted = (): RpcError => new RpcError(ErrorCode.ABORTED, 'the client closed the connection before the call finished')

describe('reading files while they arrive', () => {
  const A = filePart('a', BIG)
  const B = filePart('b', BIG)
  const C = filePart('c', BIG)
  const small = [filePart('a', 300), filePart('b', 7)] as const
  const d = [filePart('d', BIG, { seed: 'd0' }), filePart('d', 0, { seed: 'd1' }), filePart('d', 1000, { seed: 'd2' })] as const
  const rows: Array<{
    what: string
    params: Record<string, unknown>
    parts: PartSpec[]
    method: (p: Bound) => Promise<unknown>
    expect: unknown
    /** How many parts went to disk; only asserted where parts are too big to wait in memory. */
    spools?: number
    /**
     * What of the body arrives while the call is still being checked, before its placeholders are bound: the first
     * part, or every part (busboy reports the end only once they have all been read, so it comes after the bind).
     */
    before?: 'first-part' | 'all-parts'
  }> = [
    {
      what: 'one file read as it arrives streams through without touching the disk',
      params: { a: { $file: 'a' } },
      parts: [A],
      method: async (p) => await tryRead(p.file('a')),
      expect: fp(A),
      spools: 0
    },
    {
      what: 'files read in part order stream through without touching the disk',
      params: { a: { $file: 'a' }, b: { $file: 'b' }, c: { $file: 'c' } },
      parts: [A, B, C],
      method: async (p) => [await tryRead(p.file('a')), await tryRead(p.file('b')), await tryRead(p.file('c'))],
      expect: [fp(A), fp(B), fp(C)],
      spools: 0
    },
    {
      what: 'a later file read first: the earlier one is spooled and reads back byte-exact',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      method: async (p) => [await tryRead(p.file('b')), await tryRead(p.file('a'))],
      expect: [fp(B), fp(A)],
      spools: 1
    },
    {
      what: 'three files read in reverse: each earlier one is spooled',
      params: { a: { $file: 'a' }, b: { $file: 'b' }, c: { $file: 'c' } },
      parts: [A, B, C],
      method: async (p) => [await tryRead(p.file('c')), await tryRead(p.file('b')), await tryRead(p.file('a'))],
      expect: [fp(C), fp(B), fp(A)],
      spools: 2
    },
    {
      what: 'two files read at once: the one being read moves to disk mid-stream, no byte lost or repeated',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      method: async (p) => await Promise.all([tryRead(p.file('a')), tryRead(p.file('b'))]),
      expect: [fp(A), fp(B)],
      spools: 1
    },
    {
      what: 'a file partly read, then a later one: the earlier one\'s rest is spooled after the bytes already read',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      method: async (p) => {
        const chunks: Buffer[] = []
        const a = p.file('a').stream[Symbol.asyncIterator]()
        chunks.push((await a.next()).value as Buffer)
        const b = await tryRead(p.file('b'))
        for (let r = await a.next(); r.done !== true; r = await a.next()) chunks.push(r.value as Buffer)
        return [fingerprint(Buffer.concat(chunks)), b]
      },
      expect: [fp(A), fp(B)],
      spools: 1
    },
    {
      what: 'awaiting a later file\'s headers moves an unread earlier one out of the way',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      method: async (p) => {
        const info = await p.file('b').ready()
        return [info, await tryRead(p.file('a')), await tryRead(p.file('b'))]
      },
      expect: [{ field: 'b', filename: 'b.bin', type: 'application/octet-stream' }, fp(A), fp(B)],
      spools: 1
    },
    {
      what: 'files the method never reads are discarded and the body completes',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      method: async () => 'done',
      expect: 'done',
      spools: 0
    },
    {
      what: 'a file read in part: the rest is discarded once the method returned',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      method: async (p) => {
        for await (const chunk of p.file('a')) return (chunk as Buffer).length > 0
        return false
      },
      expect: true,
      spools: 0
    },
    {
      what: 'a part nothing references is discarded',
      params: { b: { $file: 'b' } },
      parts: [A, B],
      method: async (p) => await tryRead(p.file('b')),
      expect: fp(B),
      spools: 0
    },
    {
      what: 'a second part under a $file name is discarded: the file is the first',
      params: { a: { $file: 'a' } },
      parts: [filePart('a', 500, { seed: 'first' }), filePart('a', BIG, { seed: 'second' }), B],
      method: async (p) => await tryRead(p.file('a')),
      expect: fp(filePart('a', 500, { seed: 'first' })),
      spools: 0
    },
    {
      what: '$files yields every part of its name, in arrival order, empty ones included',
      params: { d: { $files: 'd' } },
      parts: [d[0], A, d[1], d[2]],
      method: async (p) => {
        const out: unknown[] = []
        for await (const file of p.files('d')) out.push(await tryRead(file))
        return out
      },
      expect: d.map(fp),
      spools: 0
    },
    {
      what: '$files interleaved with a $file part read last: the part in the way is spooled',
      params: { d: { $files: 'd' }, b: { $file: 'b' } },
      parts: [d[0], B, d[2]],
      method: async (p) => {
        const out: unknown[] = []
        for await (const file of p.files('d')) out.push(await tryRead(file))
        return [...out, await tryRead(p.file('b'))]
      },
      expect: [fp(d[0]), fp(d[2]), fp(B)],
      spools: 1
    },
    {
      what: '$files collected before reading, then read in reverse: every part is spooled, the last while the list waits for the end',
      params: { d: { $files: 'd' } },
      parts: [filePart('d', BIG, { seed: 'x0' }), filePart('d', BIG, { seed: 'x1' }), filePart('d', BIG, { seed: 'x2' })],
      method: async (p) => {
        const files: UploadedFile[] = []
        for await (const file of p.files('d')) files.push(file)
        const out: unknown[] = []
        for (const file of files.reverse()) out.push(await tryRead(file))
        return out
      },
      expect: ['x2', 'x1', 'x0'].map((seed) => fp(filePart('d', BIG, { seed }))),
      spools: 3
    },
    {
      what: '$files with no part of its name is an empty list once the body ends',
      params: { d: { $files: 'd' } },
      parts: [A],
      method: async (p) => {
        const out: unknown[] = []
        for await (const file of p.files('d')) out.push(file.field)
        return out
      },
      expect: []
    },
    {
      what: 'a text part referenced as a file holds the field\'s value',
      params: { note: { $file: 'note' } },
      parts: [textPart('note', 'hello, wörld')],
      method: async (p) => await p.file('note').text(),
      expect: 'hello, wörld'
    },
    {
      what: 'an empty file part ends at once with no bytes',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [filePart('a', 0), B],
      method: async (p) => [await tryRead(p.file('a')), await tryRead(p.file('b'))],
      expect: [fp(filePart('a', 0)), fp(B)]
    },
    {
      what: 'krpc\'s "__file__:" placeholder binds like $file',
      params: { f: '__file__:1700-ab' },
      parts: [filePart('__file__:1700-ab', 2000)],
      method: async (p) => await tryRead(p.file('f')),
      expect: fp(filePart('__file__:1700-ab', 2000))
    },
    {
      what: 'a part that arrived while the call was being checked is delivered once bound',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      before: 'first-part',
      method: async (p) => [await tryRead(p.file('b')), await tryRead(p.file('a'))],
      expect: [fp(B), fp(A)],
      spools: 1
    },
    {
      what: 'every part, arrived while the call was being checked, is delivered in order once bound',
      params: { a: { $file: 'a' }, b: { $file: 'b' }, d: { $files: 'd' } },
      parts: [small[0], filePart('d', 10, { seed: 'e0' }), small[1], filePart('d', 20, { seed: 'e1' })],
      before: 'all-parts',
      method: async (p) => {
        const files = [await tryRead(p.file('b')), await tryRead(p.file('a'))]
        const listed: unknown[] = []
        for await (const file of p.files('d')) listed.push(await tryRead(file))
        return [...files, listed]
      },
      expect: [fp(small[1]), fp(small[0]), [fp(filePart('d', 10, { seed: 'e0' })), fp(filePart('d', 20, { seed: 'e1' }))]]
    }
  ]

  for (const row of rows) {
    it(row.what, HANG, async () => await withRig({}, async (rig) => {
      let body: Promise<'complete' | 'stopped'> | undefined
      if (row.before === 'all-parts') assert.equal(await rig.send(row.parts, { end: false }), 'complete')
      if (row.before === 'first-part') body = rig.send(row.parts)
      const p = bind(rig, row.params)
      body ??= row.before === 'all-parts' ? rig.end().then(() => 'complete' as const) : rig.send(row.parts)
      const outcome = await rig.call(async () => await row.method(p))
      assert.deepEqual(outcome, { ok: true, value: row.expect, started: true })
      assert.equal(await body, 'complete', 'the body is read to its end')
      assert.equal(rig.session.ended, true)
      assert.deepEqual(rig.failures, [])
      if (row.spools !== undefined) assert.equal(rig.session.spools, row.spools, 'parts spooled to disk')
    }))
  }
})

describe('file metadata (PROTOCOL.md 3.6)', () => {
  it('the first part after json is known when the method starts; a later one only once it arrived', HANG, async () => await withRig({}, async (rig) => {
    const p = bind(rig, { a: { $file: 'a' }, b: { $file: 'b' } })
    const A = filePart('a', BIG, { filename: 'report.csv', type: 'text/csv' })
    const B = filePart('b', BIG, { filename: 'photo.jpg', type: 'image/jpeg' })
    const body = rig.send([A, B])
    const outcome = await rig.call(async () => {
      const a = p.file('a')
      const b = p.file('b')
      assert.deepEqual([a.arrived, a.filename, a.type, a.toJSON()], [true, 'report.csv', 'text/csv', { field: 'a', filename: 'report.csv', type: 'text/csv' }])
      // No stand-in for headers that have not arrived: a null filename would pass for a text part's.
      assert.equal(b.arrived, false)
      assert.deepEqual(b.toJSON(), { field: 'b' })
      for (const read of [() => b.filename, () => b.type]) {
        assert.throws(read, (err: unknown) => err instanceof Error && /part "b" have not arrived yet/.test(err.message) &&
          /await file\.ready\(\)/.test(err.message))
      }
      assert.deepEqual(await b.ready(), { field: 'b', filename: 'photo.jpg', type: 'image/jpeg' })
      assert.deepEqual([b.arrived, b.filename, b.type], [true, 'photo.jpg', 'image/jpeg'])
      return [await tryRead(b), await tryRead(a)]
    })
    assert.deepEqual(outcome, { ok: true, value: [fp(B), fp(A)], started: true })
    assert.equal(await body, 'complete')
  }))

  it('reading a later file\'s first chunk makes its headers known', HANG, async () => await withRig({}, async (rig) => {
    const p = bind(rig, { a: { $file: 'a' }, b: { $file: 'b' } })
    const body = rig.send([filePart('a', 10), filePart('b', BIG, { filename: 'late.txt', type: 'text/plain' })])
    const outcome = await rig.call(async () => {
      await tryRead(p.file('a'))
      const b = p.file('b')
      for await (const chunk of b) return [(chunk as Buffer).length > 0, b.filename, b.type]
      return []
    })
    assert.deepEqual(outcome, { ok: true, value: [true, 'late.txt', 'text/plain'], started: true })
    assert.equal(await body, 'complete')
  }))

  const headerRows: Array<{ what: string, part: PartSpec, expect: { filename: string | null, type: string } }> = [
    { what: 'a text part has a null filename and its type', part: textPart('f', 'v'), expect: { filename: null, type: 'text/plain;charset=utf-8' } },
    { what: 'a filename that looks like a path is reported as sent, never resolved', part: filePart('f', 5, { filename: '../../etc/passwd', type: 'text/plain' }), expect: { filename: '../../etc/passwd', type: 'text/plain' } },
    { what: 'an empty filename stays a file (not null)', part: filePart('f', 5, { filename: '' }), expect: { filename: '', type: 'application/octet-stream' } },
    { what: 'quotes, CR, LF and non-ASCII in a filename are kept', part: filePart('f', 5, { filename: 'a"b\r\nc ü.txt', type: 'text/plain; charset=latin1' }), expect: { filename: 'a"b\r\nc ü.txt', type: 'text/plain; charset=latin1' } }
  ]
  for (const row of headerRows) {
    it(`headers as the parser reported them, for $file and $files: ${row.what}`, HANG, async () => await withRig({}, async (rig) => {
      const p = bind(rig, { f: { $file: 'f' }, g: { $files: 'g' } })
      const body = rig.send([row.part, { ...row.part, name: 'g' }])
      const outcome = await rig.call(async () => {
        const f = p.file('f')
        const seen = [{ filename: f.filename, type: f.type }]
        for await (const item of p.files('g')) seen.push({ filename: item.filename, type: item.type })
        return seen
      })
      assert.deepEqual(outcome, { ok: true, value: [row.expect, row.expect], started: true })
      assert.equal(await body, 'complete')
    }))
  }

  const waitRows: Array<{ what: string, release: (rig: Rig) => void, arrived: boolean }> = [
    { what: 'the first part arrives', release: (rig) => { rig.arrive(filePart('a', 10)) }, arrived: true },
    { what: 'the body ends without parts', release: (rig) => { void rig.end() }, arrived: false },
    { what: 'the upload fails', release: (rig) => rig.session.fail(aborted()), arrived: false }
  ]
  for (const row of waitRows) {
    it(`bind() waits for the first part after json until ${row.what}`, HANG, async () => await withRig({}, async (rig) => {
      const p = bind(rig, { a: { $file: 'a' } })
      let bound = false
      const binding = rig.session.bind().then(() => { bound = true })
      await nextTurn()
      assert.equal(bound, false, 'bind() is still waiting')
      row.release(rig)
      await binding
      assert.equal(p.file('a').arrived, row.arrived)
      if (!rig.stopped) rig.session.settle()
    }))
  }
})

describe('a referenced part that never arrives (PROTOCOL.md 3.3)', () => {
  const rows: Array<{
    what: string
    params: Record<string, unknown>
    parts: PartSpec[]
    /**
     * When the body's end comes: after its parts, before the call is bound, when the method says (`end()`), or only
     * after the method returned.
     */
    end: 'after-parts' | 'before-bind' | 'by-method' | 'after-method'
    method?: (p: Bound, end: () => void) => Promise<unknown>
    expect: { started: boolean, value?: unknown, code?: number }
    failures: unknown[]
  }> = [
    {
      what: 'its reader fails with MISSING_FILE naming the part; files that came read normally',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [filePart('a', BIG)],
      end: 'after-parts',
      method: async (p) => [await tryRead(p.file('a')), await tryRead(p.file('b'))],
      expect: { started: true, value: [fp(filePart('a', BIG)), ErrorCode.MISSING_FILE] },
      failures: [{ code: ErrorCode.MISSING_FILE, data: { part: 'b' } }]
    },
    {
      what: 'ready() rejects with MISSING_FILE',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [filePart('a', 10), filePart('x', BIG)],
      end: 'after-parts',
      method: async (p) => codeOf(await outcomeOf(p.file('b').ready())),
      expect: { started: true, value: ErrorCode.MISSING_FILE },
      failures: [{ code: ErrorCode.MISSING_FILE, data: { part: 'b' } }]
    },
    {
      what: 'several missing: one failure, naming the first',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [filePart('x', 10)],
      end: 'by-method',
      method: async (p, end) => {
        const b = tryRead(p.file('b'))
        end()
        return await b
      },
      expect: { started: true, value: ErrorCode.MISSING_FILE },
      failures: [{ code: ErrorCode.MISSING_FILE, data: { part: 'a' } }]
    },
    {
      what: 'no part after json, the end coming while bind() waits: the method never starts',
      params: { a: { $file: 'a' } },
      parts: [],
      end: 'after-parts',
      expect: { started: false, code: ErrorCode.MISSING_FILE },
      failures: [{ code: ErrorCode.MISSING_FILE, data: { part: 'a' } }]
    },
    {
      what: 'no part after json, the end coming before the call was bound: the method never starts',
      params: { a: { $file: 'a' } },
      parts: [],
      end: 'before-bind',
      expect: { started: false, code: ErrorCode.MISSING_FILE },
      failures: [{ code: ErrorCode.MISSING_FILE, data: { part: 'a' } }]
    },
    {
      what: 'the method answered before the body ended: a file it never read being absent is no failure',
      params: { a: { $file: 'a' } },
      parts: [filePart('x', BIG)],
      end: 'after-method',
      method: async () => 'answered',
      expect: { started: true, value: 'answered' },
      failures: []
    }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => await withRig({}, async (rig) => {
      if (row.end === 'before-bind') await rig.end()
      const p = bind(rig, row.params)
      const parts = rig.send(row.parts, { end: false })
      let ending: Promise<void> | undefined
      const end = (): void => { ending ??= parts.then(async () => await rig.end()) }
      if (row.end === 'after-parts') end()
      const outcome = await rig.call(async () => await (row.method ?? (async () => assert.fail('the method must not start')))(p, end))
      assert.deepEqual(outcome.ok ? { started: outcome.started, value: outcome.value } : { started: outcome.started, code: (outcome.error as RpcError).code }, row.expect)
      end()
      await ending
      assert.equal(rig.session.ended, true)
      assert.deepEqual(rig.failures.map((err) => ({ code: err.code, data: err.data })), row.failures)
    }))
  }
})

describe('a part referenced twice is refused before the method starts (PROTOCOL.md 3.5)', () => {
  const rows: Array<{ what: string, params: unknown[], part: string }> = [
    { what: '$file twice', params: [{ $file: 'f0' }, { x: { $file: 'f0' } }], part: 'f0' },
    { what: '$file and $files', params: [{ $file: 'f0' }, { $files: 'f0' }], part: 'f0' },
    { what: '$files and $file', params: [{ $files: 'f0' }, { $file: 'f0' }], part: 'f0' },
    { what: '$files twice', params: [[{ $files: 'd' }, { $files: 'd' }]], part: 'd' },
    { what: 'krpc\'s form and $file naming the same part', params: ['__file__:a', { $file: '__file__:a' }], part: '__file__:a' }
  ]
  for (const row of rows) {
    it(`${row.what}: INVALID_PARAMS naming the part; the body is then drained`, HANG, async () => await withRig({}, async (rig) => {
      assert.throws(() => rig.bindArgs(structuredClone(row.params)), (err: unknown) =>
        err instanceof RpcError && err.code === ErrorCode.INVALID_PARAMS && (err.data as { part: string }).part === row.part)
      // runCall turns the throw into the call's outcome, and the route settles the session.
      rig.session.settle()
      assert.equal(await rig.send([filePart(row.part, BIG), filePart(row.part, BIG, { seed: 'again' })]), 'complete')
      assert.deepEqual(rig.failures, [])
    }))
  }
})

describe('an upload cut short: a file never ends as if complete (PROTOCOL.md 3.8, 10)', () => {
  const A = filePart('a', BIG)
  const B = filePart('b', BIG)
  const rows: Array<{
    what: string
    params: Record<string, unknown>
    parts: PartSpec[]
    /**
     * Where the body breaks: the part (by index) and after how many of its bytes, once the parts before it have been
     * taken whole (read, spooled or discarded: a part whose last bytes still wait in its buffers fails with the upload).
     */
    cut?: { part: number, after: number }
    /** Waits before a part (by index) arrives. */
    gates?: Record<number, (rig: Rig) => Promise<void>>
    limits?: Partial<Limits>
    method: (p: Bound) => Promise<unknown>
    expect: unknown
    failure: { code: number, data?: unknown }
    spools?: number
  }> = [
    {
      what: 'the body cut mid-part: the file being read fails',
      params: { a: { $file: 'a' } },
      parts: [A],
      cut: { part: 0, after: 50_000 },
      method: async (p) => await tryRead(p.file('a')),
      expect: ErrorCode.INVALID_REQUEST,
      failure: { code: ErrorCode.INVALID_REQUEST }
    },
    {
      what: 'the body cut after a part\'s last byte, before its boundary: still a failure',
      params: { a: { $file: 'a' } },
      parts: [A],
      cut: { part: 0, after: BIG },
      method: async (p) => await tryRead(p.file('a')),
      expect: ErrorCode.INVALID_REQUEST,
      failure: { code: ErrorCode.INVALID_REQUEST }
    },
    {
      what: 'the body cut before a part\'s first byte: the file and every later one fail',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      cut: { part: 0, after: 0 },
      method: async (p) => [await tryRead(p.file('a')), await tryRead(p.file('b'))],
      expect: [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST],
      failure: { code: ErrorCode.INVALID_REQUEST }
    },
    {
      what: 'the body cut while the part is spooled for a later read: both files fail',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      cut: { part: 0, after: 100_000 },
      method: async (p) => [await tryRead(p.file('b')), await tryRead(p.file('a'))],
      expect: [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST],
      failure: { code: ErrorCode.INVALID_REQUEST },
      spools: 1
    },
    {
      what: 'a file that arrived whole survives a later part being cut, read in order',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      cut: { part: 1, after: 30_000 },
      method: async (p) => [await tryRead(p.file('a')), await tryRead(p.file('b'))],
      expect: [fp(A), ErrorCode.INVALID_REQUEST],
      failure: { code: ErrorCode.INVALID_REQUEST },
      spools: 0
    },
    {
      what: 'a file that arrived whole survives a later part being cut, read back from its spool',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      cut: { part: 1, after: 30_000 },
      method: async (p) => [await tryRead(p.file('b')), await tryRead(p.file('a'))],
      expect: [ErrorCode.INVALID_REQUEST, fp(A)],
      failure: { code: ErrorCode.INVALID_REQUEST },
      spools: 1
    },
    {
      what: 'a $files item cut: its reader fails and so does the list',
      params: { d: { $files: 'd' } },
      parts: [filePart('d', 1000, { seed: 'd0' }), filePart('d', BIG, { seed: 'd1' })],
      cut: { part: 1, after: 20_000 },
      method: async (p) => {
        const out: unknown[] = []
        const list = p.files('d')[Symbol.asyncIterator]()
        for (;;) {
          const next = await outcomeOf(list.next())
          if (!next.ok) return [...out, `list: ${String(codeOf(next))}`]
          const item = next.value as IteratorResult<UploadedFile>
          if (item.done === true) return out
          out.push(await tryRead(item.value))
        }
      },
      expect: [fp(filePart('d', 1000, { seed: 'd0' })), ErrorCode.INVALID_REQUEST, `list: ${ErrorCode.INVALID_REQUEST}`],
      failure: { code: ErrorCode.INVALID_REQUEST }
    },
    {
      what: 'a part over fileSize fails its reader with LIMIT_EXCEEDED naming fileSize',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [filePart('a', 70_000, { fileSize: 65_536 }), B],
      method: async (p) => [await tryRead(p.file('a')), await tryRead(p.file('b'))],
      expect: [ErrorCode.LIMIT_EXCEEDED, ErrorCode.LIMIT_EXCEEDED],
      failure: { code: ErrorCode.LIMIT_EXCEEDED, data: { limit: 'fileSize', max: 65_536, part: 'a' } }
    },
    {
      what: 'a spooled part over fileSize fails both readers, the spool removed',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [filePart('a', BIG, { fileSize: 100_000 }), B],
      method: async (p) => [await tryRead(p.file('b')), await tryRead(p.file('a'))],
      expect: [ErrorCode.LIMIT_EXCEEDED, ErrorCode.LIMIT_EXCEEDED],
      failure: { code: ErrorCode.LIMIT_EXCEEDED, data: { limit: 'fileSize', max: 100_000, part: 'a' } },
      spools: 1
    },
    {
      what: 'an earlier part larger than spoolSize, read out of order: LIMIT_EXCEEDED naming spoolSize',
      params: { a: { $file: 'a' }, b: { $file: 'b' } },
      parts: [A, B],
      limits: { spoolSize: 65_536 },
      method: async (p) => [await tryRead(p.file('b')), await tryRead(p.file('a'))],
      expect: [ErrorCode.LIMIT_EXCEEDED, ErrorCode.LIMIT_EXCEEDED],
      failure: { code: ErrorCode.LIMIT_EXCEEDED, data: { limit: 'spoolSize', max: 65_536 } },
      spools: 1
    },
    {
      what: 'spoolSize is per request: parts within it one by one fail together; one spooled whole before reads back',
      params: { a: { $file: 'a' }, b: { $file: 'b' }, c: { $file: 'c' } },
      parts: [filePart('a', 60_000), filePart('b', BIG), filePart('c', 10)],
      // a is all on disk (so counted) before b arrives; b then takes the total past the limit while it arrives.
      gates: { 1: async (rig) => await rig.spoolDir.holding(60_000) },
      limits: { spoolSize: 100_000 },
      method: async (p) => [await tryRead(p.file('c')), await tryRead(p.file('b')), await tryRead(p.file('a'))],
      expect: [ErrorCode.LIMIT_EXCEEDED, ErrorCode.LIMIT_EXCEEDED, fp(filePart('a', 60_000))],
      failure: { code: ErrorCode.LIMIT_EXCEEDED, data: { limit: 'spoolSize', max: 100_000 } },
      spools: 2
    }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => await withRig(row.limits ?? {}, async (rig) => {
      const p = bind(rig, row.params)
      const body = (async () => {
        for (const [index, part] of row.parts.entries()) {
          await row.gates?.[index]?.(rig)
          const feed = rig.arrive(part)
          if (row.cut?.part === index) {
            await feed.write(row.cut.after)
            await Promise.all(rig.parts.slice(0, index).map(async (earlier) => await earlier.ended))
            feed.cut()
            return
          }
          if (!await feed.write()) return
          feed.end()
        }
        await rig.end()
      })()
      const outcome = await rig.call(async () => await row.method(p))
      assert.deepEqual(outcome, { ok: true, value: row.expect, started: true })
      await body
      assert.equal(rig.stopped, true, 'the body stopped')
      assert.equal(rig.failures.length, 1, 'one failure reported, whatever else failed after it')
      const [failure] = rig.failures as [RpcError]
      assert.equal(failure.code, row.failure.code, failure.message)
      if (row.failure.data !== undefined) assert.deepEqual(failure.data, row.failure.data)
      if (row.spools !== undefined) assert.equal(rig.session.spools, row.spools, 'parts spooled to disk')
    }))
  }

  for (const [size, expect] of [[100_000, 'ok'], [100_001, ErrorCode.LIMIT_EXCEEDED]] as const) {
    it(`a part of ${size} bytes spooled under a spoolSize of 100000: ${expect === 'ok' ? 'within' : 'over'} the limit`, HANG, async () => await withRig({ spoolSize: 100_000 }, async (rig) => {
      const A = filePart('a', size)
      const p = bind(rig, { a: { $file: 'a' }, b: { $file: 'b' } })
      const body = rig.send([A, filePart('b', 10)])
      const outcome = await rig.call(async () => {
        // Whether b's headers come before a's spool is counted through is the disk's doing: only a is looked at.
        await outcomeOf(p.file('b').ready())
        return await tryRead(p.file('a'))
      })
      assert.deepEqual(outcome, { ok: true, value: expect === 'ok' ? fp(A) : expect, started: true })
      assert.equal(await body, expect === 'ok' ? 'complete' : 'stopped')
      assert.equal(rig.session.spools, 1)
      assert.deepEqual(rig.failures.map((err) => err.data), expect === 'ok' ? [] : [{ limit: 'spoolSize', max: 100_000 }])
    }))
  }

  it('a truncated file saved with saveTo() rejects and leaves no partial file', HANG, async () => {
    const target = await mkdtemp(join(tmpdir(), 'formcall-save-test-'))
    try {
      await withRig({}, async (rig) => {
        const p = bind(rig, { a: { $file: 'a' } })
        const body = (async () => {
          const feed = rig.arrive(filePart('a', BIG))
          await feed.write(BIG / 2)
          feed.cut()
        })()
        const outcome = await rig.call(async () => codeOf(await outcomeOf(p.file('a').saveTo(join(target, 'a.bin')))))
        await body
        assert.deepEqual(outcome, { ok: true, value: ErrorCode.INVALID_REQUEST, started: true })
        assert.deepEqual(await readdir(target), [])
      })
    } finally {
      await rm(target, { recursive: true, force: true })
    }
  })
})

describe('the upload failing at each step of the request (session.fail)', () => {
  const A = filePart('a', BIG)
  const B = filePart('b', BIG)
  interface Scene {
    rig: Rig
    a: () => UploadedFile
    b: () => UploadedFile
    bindFiles: () => void
    abort: () => void
  }
  const rows: Array<{
    what: string
    /** Plays the request and the method, aborting at the step; resolves with what they came to. */
    play: (s: Scene) => Promise<unknown>
    expect: unknown
    spools: number
  }> = [
    {
      what: 'before the call is bound, a part waiting: the method never starts and the part is drained',
      play: async (s) => {
        const feed = s.rig.arrive(A)
        const written = feed.write()
        s.abort()
        // At once, not only when the call gets to bind (a slow before-call hook may still be running).
        const drained = feed.stream.readableFlowing
        s.bindFiles()
        const outcome = await s.rig.call(async () => assert.fail('the method must not start'))
        return { started: outcome.started, body: await written, drained }
      },
      expect: { started: false, body: false, drained: true },
      spools: 0
    },
    {
      what: 'before anything arrived: bind() returns and the method never starts',
      play: async (s) => {
        s.bindFiles()
        const binding = s.rig.call(async () => assert.fail('the method must not start'))
        s.abort()
        const outcome = await binding
        return { started: outcome.started, body: await s.rig.send([A, B]) }
      },
      expect: { started: false, body: 'stopped' },
      spools: 0
    },
    {
      what: 'bound, the first part arrived without bytes: both files fail',
      play: async (s) => {
        s.bindFiles()
        const feed = s.rig.arrive(A)
        const outcome = await s.rig.call(async () => {
          const a = tryRead(s.a())
          s.abort()
          return [await a, await tryRead(s.b())]
        })
        return { outcome, body: await feed.write() }
      },
      expect: { outcome: { ok: true, value: [ErrorCode.ABORTED, ErrorCode.ABORTED], started: true }, body: false },
      spools: 0
    },
    {
      what: 'mid-part, the file read in order: it fails, never ends short',
      play: async (s) => {
        s.bindFiles()
        const method = s.rig.call(async () => [await tryRead(s.a()), await tryRead(s.b())])
        const feed = s.rig.arrive(A)
        await feed.write(BIG / 2)
        s.abort()
        return { outcome: await method, body: await feed.write() }
      },
      expect: { outcome: { ok: true, value: [ErrorCode.ABORTED, ErrorCode.ABORTED], started: true }, body: false },
      spools: 0
    },
    {
      what: 'mid-part, the part spooled while a later one is awaited: both fail, the spool removed',
      play: async (s) => {
        s.bindFiles()
        const method = s.rig.call(async () => [await tryRead(s.b()), await tryRead(s.a())])
        const feed = s.rig.arrive(A)
        await feed.write(BIG / 2)
        s.abort()
        return { outcome: await method, body: await feed.write() }
      },
      expect: { outcome: { ok: true, value: [ErrorCode.ABORTED, ErrorCode.ABORTED], started: true }, body: false },
      spools: 1
    },
    {
      what: 'mid-part, after the method returned without reading: its answer stands',
      play: async (s) => {
        s.bindFiles()
        const method = s.rig.call(async () => 'answered')
        const feed = s.rig.arrive(A)
        const outcome = await method
        await feed.write(BIG / 2)
        s.abort()
        return { outcome, body: await feed.write() }
      },
      expect: { outcome: { ok: true, value: 'answered', started: true }, body: false },
      spools: 0
    },
    {
      what: 'after the body ended, a spooled file half read: the client gone (fail, cleanup) fails the rest',
      play: async (s) => {
        s.bindFiles()
        const body = s.rig.send([A, B])
        const outcome = await s.rig.call(async () => {
          const b = await tryRead(s.b())
          const a = s.a().stream[Symbol.asyncIterator]()
          await a.next()
          assert.equal(await body, 'complete')
          s.abort()
          s.rig.session.cleanup()
          const rest = await outcomeOf((async () => { for (let r = await a.next(); r.done !== true; r = await a.next()); })())
          return [b, codeOf(rest)]
        })
        return { outcome }
      },
      expect: { outcome: { ok: true, value: [fp(B), ErrorCode.ABORTED], started: true } },
      spools: 1
    },
    {
      what: 'after the body ended and the method finished: nothing read changes',
      play: async (s) => {
        s.bindFiles()
        const body = s.rig.send([A, B])
        const outcome = await s.rig.call(async () => [await tryRead(s.a()), await tryRead(s.b())])
        const ended = await body
        s.abort()
        return { outcome, body: ended }
      },
      expect: { outcome: { ok: true, value: [fp(A), fp(B)], started: true }, body: 'complete' },
      spools: 0
    }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => await withRig({}, async (rig) => {
      let p: Bound | undefined
      const scene: Scene = {
        rig,
        a: () => (p as Bound).file('a'),
        b: () => (p as Bound).file('b'),
        bindFiles: () => { p = bind(rig, { a: { $file: 'a' }, b: { $file: 'b' } }) },
        abort: () => rig.session.fail(aborted())
      }
      assert.deepEqual(await row.play(scene), row.expect)
      assert.deepEqual(rig.failures.map((err) => err.code), [ErrorCode.ABORTED])
      assert.equal(rig.session.spools, row.spools, 'parts spooled to disk')
    }))
  }
})

describe('cleanup', () => {
  it('a spooled part is a file on disk until the request is over; then it is gone and reading it fails', HANG, async () => await withRig({}, async (rig) => {
    const A = filePart('a', BIG)
    const B = filePart('b', 10)
    const p = bind(rig, { a: { $file: 'a' }, b: { $file: 'b' } })
    const body = rig.send([A, B])
    const outcome = await rig.call(async () => {
      const b = await tryRead(p.file('b'))
      const onDisk = await rig.spoolDir.settled(1)
      return [b, onDisk.length]
    })
    assert.deepEqual(outcome, { ok: true, value: [fp(B), 1], started: true })
    assert.equal(await body, 'complete')
    // The method answered without reading a, which had arrived whole: its spool stays until the request is over.
    assert.equal((await rig.spoolDir.settled(1)).length, 1)
    rig.session.cleanup()
    assert.deepEqual(await rig.spoolDir.settled(1), [])
    // Read after the request is over, it fails rather than hang.
    assert.equal(await tryRead(p.file('a')), ErrorCode.ABORTED)
  }))
})
