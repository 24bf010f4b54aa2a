/**
 * CreditSender → a real MessageChannel (batches transferred, as the worker code posts them) → CreditReceiver.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { Readable } from 'node:stream'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { MessageChannel } from 'node:worker_threads'
import {
  ACK_BYTES, BATCH_BYTES, CREDIT_WINDOW_BYTES, CreditReceiver, CreditSender, MESSAGE_COST, MIN_HANDOVER_BYTES, creditCost,
  type CreditSenderOptions
} from '../src/dispatch/worker/credit-flow.js'

/** Guards against a hang stalling the run; no test comes near it. */
const HANG = { timeout: 20_000 }
const KiB = 1024
const MiB = 1024 * KiB

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random (seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Chunks of the given sizes holding one run of pseudo-random bytes, each in a buffer of its own. */
function chunksOf (sizes: readonly number[], seed = 1): Buffer[] {
  const next = random(seed)
  return sizes.map((size) => {
    const chunk = Buffer.allocUnsafe(size)
    for (let i = 0; i < size; i++) chunk[i] = Math.floor(next() * 256)
    return chunk
  })
}

/** A source handing on `chunks` as fast as it is read, or one chunk per event-loop turn (`paced`). */
function sourceOf (chunks: readonly Buffer[], paced = false): Readable {
  let i = 0
  let waiting = false
  return new Readable({
    read () {
      if (!paced) {
        this.push(i < chunks.length ? chunks[i++] : null)
        return
      }
      if (waiting) return
      waiting = true
      setImmediate(() => {
        waiting = false
        this.push(i < chunks.length ? chunks[i++] : null)
      })
    }
  })
}

/** A chunk as it was posted, in message number `message`. */
interface Posted { bytes: number, bufferBytes: number, offset: number, cost: number, message: number }

/** A sender and a receiver joined by a MessageChannel, with what crossed it. */
interface Link {
  sender: CreditSender
  receiver: CreditReceiver
  posted: Posted[]
  /** Messages posted. */
  messages: () => number
  /** Credit posted and not yet acked, as the sender's side counts it. */
  unacked: () => number
  /** The most credit ever unacked, seen at each post. */
  maxUnacked: () => number
  /** Messages the receiver's side got. */
  arrived: () => number
  ends: () => number
  errors: Error[]
  acks: number[]
  close: () => void
}

function link (source: Readable, options?: CreditSenderOptions): Link {
  const { port1, port2 } = new MessageChannel()
  const posted: Posted[] = []
  const errors: Error[] = []
  const acks: number[] = []
  let postedCost = 0
  let ackedCost = 0
  let maxUnacked = 0
  let arrived = 0
  let messages = 0
  let ends = 0
  type Down = { t: 'data', chunks: Uint8Array[] } | { t: 'end' } | { t: 'error', message: string }
  type Up = { t: 'ack', n: number } | { t: 'cancel' }
  const receiver = new CreditReceiver((n) => port2.postMessage({ t: 'ack', n }), () => port2.postMessage({ t: 'cancel' }))
  port2.on('message', (m: Down) => {
    arrived++
    if (m.t === 'data') receiver.receive(m.chunks)
    else if (m.t === 'end') receiver.finish()
    else receiver.destroy(new Error(m.message))
  })
  const sender = new CreditSender(source, {
    data: (chunks, transfer) => {
      messages++
      for (const chunk of chunks) {
        const cost = creditCost(chunk)
        posted.push({ bytes: chunk.byteLength, bufferBytes: chunk.buffer.byteLength, offset: chunk.byteOffset, cost, message: messages })
        postedCost += cost
      }
      maxUnacked = Math.max(maxUnacked, postedCost - ackedCost)
      assert.deepEqual(transfer, chunks.map((chunk) => chunk.buffer))
      port1.postMessage({ t: 'data', chunks }, transfer)
    },
    end: () => {
      ends++
      port1.postMessage({ t: 'end' })
    },
    error: (err) => {
      errors.push(err)
      port1.postMessage({ t: 'error', message: err.message })
    }
  }, options)
  port1.on('message', (m: Up) => {
    if (m.t === 'ack') {
      acks.push(m.n)
      ackedCost += m.n
      sender.ack(m.n)
    } else {
      sender.cancel()
    }
  })
  return {
    sender,
    receiver,
    posted,
    messages: () => messages,
    unacked: () => postedCost - ackedCost,
    maxUnacked: () => maxUnacked,
    arrived: () => arrived,
    ends: () => ends,
    errors,
    acks,
    close: () => port1.close()
  }
}

async function readAll (stream: Readable): Promise<Buffer> {
  const got: Buffer[] = []
  for await (const chunk of stream) got.push(chunk as Buffer)
  return Buffer.concat(got)
}

/** Reads the stream to its end or error: the bytes it got, and the error if any. */
async function readUntilDone (stream: Readable): Promise<{ bytes: Buffer, error: Error | undefined }> {
  const got: Buffer[] = []
  try {
    for await (const chunk of stream) got.push(chunk as Buffer)
    return { bytes: Buffer.concat(got), error: undefined }
  } catch (err) {
    return { bytes: Buffer.concat(got), error: err as Error }
  }
}

/** Event-loop turns, enough for anything still to happen in a few turns to have happened. */
async function settle (turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await nextTurn()
}

const sizesRandom = ((): number[] => {
  const next = random(7)
  return Array.from({ length: 60 }, () => 1 + Math.floor(next() * 300 * KiB))
})()

describe('bytes arrive intact and in order, in own buffers, within the credit bound', () => {
  const rows: Array<{ what: string, sizes: number[], paced?: boolean }> = [
    { what: '1-byte chunks', sizes: Array(3000).fill(1) },
    { what: '1-byte chunks, one per turn', sizes: Array(300).fill(1), paced: true },
    { what: '16 KiB chunks', sizes: Array(200).fill(16 * KiB) },
    { what: '16 KiB chunks, one per turn', sizes: Array(100).fill(16 * KiB), paced: true },
    { what: '64 KiB chunks', sizes: Array(80).fill(64 * KiB) },
    { what: '64 KiB chunks, one per turn', sizes: Array(40).fill(64 * KiB), paced: true },
    { what: 'one 3 MiB chunk', sizes: [3 * MiB] },
    { what: '3 MiB chunks (over the window) between small ones', sizes: [100, 3 * MiB, 5 * KiB, 3 * MiB + 1, 1] },
    { what: 'chunks of exactly, just under and just over a batch', sizes: [BATCH_BYTES, BATCH_BYTES - 1, BATCH_BYTES + 1, 1, BATCH_BYTES, 2] },
    { what: 'random sizes up to 300 KiB', sizes: sizesRandom },
    { what: 'random sizes up to 300 KiB, one per turn', sizes: sizesRandom.slice(0, 30), paced: true }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => {
      const chunks = chunksOf(row.sizes)
      const l = link(sourceOf(chunks, row.paced))
      assert.deepEqual(await readAll(l.receiver), Buffer.concat(chunks))
      assert.deepEqual([l.ends(), l.errors], [1, []])
      // The source's buffers were copied, never transferred (a transferred one would read as empty now).
      assert.deepEqual(chunks.map((chunk) => chunk.byteLength), row.sizes)
      const largest = Math.max(BATCH_BYTES, ...row.sizes)
      for (const p of l.posted) {
        assert.equal(p.offset, 0)
        assert.ok(p.bytes > 0 && p.bytes <= largest)
        // Its own buffer, exactly its size.
        assert.equal(p.bufferBytes, p.bytes)
      }
      assert.ok(l.maxUnacked() < CREDIT_WINDOW_BYTES + largest + BATCH_BYTES / 2, `${l.maxUnacked()} unacked`)
      l.close()
    })
  }

  it('one turn\'s chunks travel as one message, before the end', HANG, async () => {
    const chunks = chunksOf(Array(10).fill(1000))
    const source = new Readable({ read () {} })
    for (const chunk of chunks) source.push(chunk)
    source.push(null)
    const l = link(source)
    assert.deepEqual(await readAll(l.receiver), Buffer.concat(chunks))
    assert.deepEqual(l.posted.map((p) => p.bytes), [10_000])
    l.close()
  })

  it('one turn\'s chunks are copied once, into a buffer of exactly their size', HANG, async () => {
    const chunks = chunksOf([60 * KiB, 60 * KiB, 60 * KiB - 1])
    const source = new Readable({ read () {} })
    for (const chunk of chunks) source.push(chunk)
    source.push(null)
    const l = link(source)
    const got: Buffer[] = []
    l.receiver.on('data', (chunk: Buffer) => got.push(chunk))
    await once(l.receiver, 'end')
    assert.deepEqual(Buffer.concat(got), Buffer.concat(chunks))
    const [first] = got as [Buffer]
    assert.deepEqual([got.length, first.byteLength, first.buffer.byteLength], [1, 180 * KiB - 1, 180 * KiB - 1])
    // The source's own buffers were not transferred (they would read as empty).
    assert.deepEqual(chunks.map((chunk) => chunk.byteLength), [60 * KiB, 60 * KiB, 60 * KiB - 1])
    l.close()
  })

  it('a fast source fills whole batches', HANG, async () => {
    const chunks = chunksOf(Array(64).fill(16 * KiB))
    const l = link(sourceOf(chunks))
    assert.deepEqual(await readAll(l.receiver), Buffer.concat(chunks))
    assert.deepEqual(l.posted.map((p) => p.bytes), Array(64 * 16 * KiB / BATCH_BYTES).fill(BATCH_BYTES))
    l.close()
  })
})

describe('handing over: with handOver, chunks that own their memory are transferred instead of copied', () => {
  /** A chunk of `size` pseudo-random bytes in an ArrayBuffer of exactly its size, or a slice of a larger one. */
  function chunkOf (kind: 'own' | 'slice', size: number, seed: number): Buffer {
    const [bytes] = chunksOf([size + (kind === 'slice' ? 2 : 0)], seed) as [Buffer]
    if (kind === 'slice') return bytes.subarray(1, size + 1)
    const own = Buffer.from(new ArrayBuffer(size))
    bytes.copy(own)
    return own
  }
  const handedOver = (chunk: Buffer): boolean => chunk.byteOffset === 0 && chunk.buffer.byteLength === chunk.byteLength &&
    chunk.byteLength >= MIN_HANDOVER_BYTES

  const rows: Array<{ what: string, chunks: Array<['own' | 'slice', number]>, paced?: boolean }> = [
    { what: '64 KiB chunks, as node:http reads them', chunks: Array(80).fill(['own', 64 * KiB]) },
    { what: '64 KiB chunks, one per turn', chunks: Array(20).fill(['own', 64 * KiB]), paced: true },
    {
      what: 'own buffers between slices, small and just-too-small ones, in order',
      chunks: [['own', 64 * KiB], ['slice', 64 * KiB], ['own', 1000], ['own', MIN_HANDOVER_BYTES], ['own', MIN_HANDOVER_BYTES - 1],
        ['slice', 10], ['own', 3 * MiB], ['slice', BATCH_BYTES + 1], ['own', 64 * KiB], ['own', 64 * KiB]]
    },
    { what: 'chunks over a batch', chunks: [['own', BATCH_BYTES + 1], ['own', 2 * MiB], ['slice', 2 * MiB]] }
  ]
  for (const row of rows) {
    it(`${row.what}: the bytes arrive intact, in messages of up to a batch`, HANG, async () => {
      const chunks = row.chunks.map(([kind, size], i) => chunkOf(kind, size, i + 1))
      const expected = Buffer.from(Buffer.concat(chunks))
      const l = link(sourceOf(chunks, row.paced), { handOver: true })
      assert.deepEqual(await readAll(l.receiver), expected)
      assert.deepEqual([l.ends(), l.errors], [1, []])
      // Handed over: emptied on this side. Copied: still whole.
      assert.deepEqual(chunks.map((chunk) => chunk.byteLength),
        row.chunks.map(([kind, size]) => kind === 'own' && size >= MIN_HANDOVER_BYTES ? 0 : size))
      const perMessage = new Map<number, number>()
      for (const p of l.posted) {
        assert.equal(p.offset, 0)
        assert.equal(p.bufferBytes, p.bytes)
        perMessage.set(p.message, (perMessage.get(p.message) ?? 0) + p.bytes)
      }
      const largest = Math.max(BATCH_BYTES, ...row.chunks.map(([, size]) => size))
      for (const bytes of perMessage.values()) assert.ok(bytes <= largest, `a message of ${bytes} bytes`)
      assert.ok(l.maxUnacked() < CREDIT_WINDOW_BYTES + largest + BATCH_BYTES / 2, `${l.maxUnacked()} unacked`)
      l.close()
    })
  }

  it('a chunk is handed over only after the turn it came in: later readers in that turn still see all of it', HANG, async () => {
    const source = new Readable({ read () {} })
    const l = link(source, { handOver: true })
    const seen: number[] = []
    source.on('data', (chunk: Buffer) => {
      seen.push(chunk.byteLength)
      process.nextTick(() => seen.push(chunk.byteLength))
    })
    await nextTurn()
    // More than a batch in one turn: without a handover, the first batch would be posted within the turn.
    const chunks = Array.from({ length: 20 }, (_, i) => chunkOf('own', 64 * KiB, i + 1))
    const expected = Buffer.from(Buffer.concat(chunks))
    for (const chunk of chunks) source.push(chunk)
    assert.equal(l.messages(), 0)
    source.push(null)
    assert.deepEqual(await readAll(l.receiver), expected)
    assert.deepEqual(seen, Array(40).fill(64 * KiB))
    assert.deepEqual(chunks.map((chunk) => chunk.byteLength), Array(20).fill(0))
    assert.deepEqual([l.ends(), l.errors], [1, []])
    l.close()
  })

  it('an error in the turn of chunks to hand over drops them, untransferred, and the reader gets the error', HANG, async () => {
    const source = new Readable({ read () {} })
    const l = link(source, { handOver: true })
    await nextTurn()
    const chunks = [chunkOf('own', 64 * KiB, 1), chunkOf('own', 64 * KiB, 2)]
    for (const chunk of chunks) source.push(chunk)
    source.destroy(new Error('client gone'))
    const read = await readUntilDone(l.receiver)
    assert.deepEqual([read.error?.message, read.bytes.byteLength], ['client gone', 0])
    await settle()
    assert.deepEqual([l.messages(), l.ends(), chunks.map((chunk) => chunk.byteLength)], [0, 0, [64 * KiB, 64 * KiB]])
    l.close()
  })

  it('chunks are never handed over without handOver', HANG, async () => {
    const chunks = Array.from({ length: 20 }, (_, i) => chunkOf('own', 64 * KiB, i + 1))
    const l = link(sourceOf(chunks))
    assert.deepEqual(await readAll(l.receiver), Buffer.concat(chunks))
    assert.ok(chunks.every((chunk) => handedOver(chunk)))
    l.close()
  })
})

describe('a trickling source', () => {
  const rows: Array<{ what: string, sizes: number[], gap: () => Promise<unknown> }> = [
    { what: 'each chunk reaches the reader while the source sits idle 50 ms', sizes: [1, 1000, 64 * KiB, 1], gap: async () => await sleep(50) },
    // 600 messages cost 600 × MESSAGE_COST of credit, more than the window: acks must keep coming.
    { what: 'hundreds of 1-byte chunks a turn apart keep getting credit back', sizes: Array(600).fill(1), gap: async () => await nextTurn() }
  ]
  for (const row of rows) {
    it(row.what, HANG, async () => {
      assert.ok(row.sizes.length * MESSAGE_COST > CREDIT_WINDOW_BYTES || row.sizes.length < 10)
      const chunks = chunksOf(row.sizes)
      const source = new Readable({ read () {} })
      const l = link(source)
      const reader = l.receiver[Symbol.asyncIterator]()
      for (const chunk of chunks) {
        source.push(chunk)
        // Nothing more comes until the reader has this chunk: bytes must not wait in the sender for more bytes.
        const got = await reader.next()
        assert.deepEqual(got.value, chunk)
        await row.gap()
      }
      source.push(null)
      assert.equal((await reader.next()).done, true)
      assert.equal(l.posted.length, chunks.length)
      l.close()
    })
  }
})

describe('a reader that does not read', () => {
  const rows: Array<{ what: string, size: number }> = [
    { what: '1 KiB chunks', size: KiB },
    { what: '16 KiB chunks', size: 16 * KiB },
    { what: '64 KiB chunks', size: 64 * KiB },
    { what: '100 KiB chunks (not dividing a batch)', size: 100 * KiB },
    { what: 'batch-sized chunks', size: BATCH_BYTES }
  ]
  for (const row of rows.flatMap((row) => [{ ...row, handOver: false }, { ...row, handOver: true }])) {
    it(`pauses the source within the window + one batch (${row.what}${row.handOver ? ', handed over' : ''}), then all the rest flows once it reads`, HANG, async () => {
      const count = Math.ceil(8 * MiB / row.size)
      const chunks = chunksOf(Array(count).fill(row.size))
      const expected = Buffer.from(Buffer.concat(chunks))
      const source = sourceOf(chunks)
      const l = link(source, { handOver: row.handOver })
      await once(source, 'pause')
      // Every message posted so far reaches the other side; nobody reads there, so no ack comes and nothing more is
      // posted, however many turns pass.
      while (l.arrived() < l.messages()) await nextTurn()
      await settle()
      const postedBytes = l.posted.reduce((sum, p) => sum + p.bytes, 0)
      assert.equal(source.isPaused(), true)
      assert.ok(postedBytes >= CREDIT_WINDOW_BYTES - row.size - MESSAGE_COST, `only ${postedBytes} posted`)
      assert.ok(postedBytes <= CREDIT_WINDOW_BYTES + BATCH_BYTES, `${postedBytes} posted`)
      assert.ok(l.unacked() < CREDIT_WINDOW_BYTES + row.size + BATCH_BYTES / 2, `${l.unacked()} unacked`)
      assert.equal(l.arrived(), l.messages())
      // The reader starts: every byte arrives.
      assert.deepEqual(await readAll(l.receiver), expected)
      l.close()
    })
  }
})

describe('errors and the end', () => {
  const rows: Array<{ what: string, fail: (source: Readable) => void, message: string }> = [
    { what: 'an error of the source', fail: (source) => source.destroy(new Error('disk gone')), message: 'disk gone' },
    { what: 'the source destroyed without an error before its end', fail: (source) => source.destroy(), message: 'the stream closed before its end' }
  ]
  for (const row of rows) {
    it(`${row.what} after bytes were posted: the reader gets those bytes, then the error, never an end`, HANG, async () => {
      const chunks = chunksOf(Array(4).fill(16 * KiB))
      const source = new Readable({ read () {} })
      const l = link(source)
      for (const chunk of chunks) source.push(chunk)
      // Posted at the turn's end; then the error comes.
      while (l.posted.length === 0) await nextTurn()
      row.fail(source)
      const read = await readUntilDone(l.receiver)
      assert.equal(read.error?.message, row.message)
      assert.deepEqual(read.bytes, Buffer.concat(chunks))
      assert.deepEqual([l.ends(), l.errors.map((err) => err.message)], [0, [row.message]])
      l.close()
    })

    it(`${row.what} in the turn its bytes came: those bytes are dropped, the reader gets the error`, HANG, async () => {
      const source = new Readable({ read () {} })
      const l = link(source)
      const [before, pending] = chunksOf([5000, 7000])
      source.push(before)
      while (l.posted.length === 0) await nextTurn()
      source.push(pending)
      // The chunk reaches the sender now; it would be posted at the turn's end.
      await new Promise((resolve) => process.nextTick(resolve))
      row.fail(source)
      const read = await readUntilDone(l.receiver)
      assert.equal(read.error?.message, row.message)
      assert.deepEqual(read.bytes, before)
      await settle()
      assert.deepEqual(l.posted.map((p) => p.bytes), [5000])
      assert.equal(l.ends(), 0)
      l.close()
    })
  }

  it('a source in object mode: strings go as their UTF-8 bytes, anything else fails the stream', HANG, async () => {
    const text = link(Readable.from(['chunk one, ', 'chünk two']))
    assert.equal((await readAll(text.receiver)).toString(), 'chunk one, chünk two')
    text.close()
    const other = link(Readable.from([Buffer.from('bytes'), { not: 'bytes' }]))
    const read = await readUntilDone(other.receiver)
    assert.equal(read.error?.message, 'the stream must yield bytes or strings, got object')
    assert.deepEqual([other.ends(), other.errors.length], [0, 1])
    other.close()
  })

  it('the end posts the pending bytes first', HANG, async () => {
    const source = new Readable({ read () {} })
    const l = link(source)
    const [a, b] = chunksOf([3000, 4000])
    source.push(a)
    source.push(b)
    source.push(null)
    assert.deepEqual(await readAll(l.receiver), Buffer.concat([a as Buffer, b as Buffer]))
    assert.deepEqual([l.posted.map((p) => p.bytes), l.ends(), l.errors], [[7000], 1, []])
    assert.equal(l.receiver.complete, true)
    l.close()
  })
})

describe('cancel', () => {
  it('cancel() destroys the source, drops the pending bytes and posts nothing more', HANG, async () => {
    const source = new Readable({ read () {} })
    const l = link(source)
    const [first, pending] = chunksOf([2000, 3000])
    source.push(first)
    while (l.posted.length === 0) await nextTurn()
    source.push(pending)
    await new Promise((resolve) => process.nextTick(resolve))
    l.sender.cancel()
    assert.equal(source.destroyed, true)
    await settle()
    assert.deepEqual([l.posted.map((p) => p.bytes), l.ends(), l.errors], [[2000], 0, []])
    l.close()
  })

  it('a reader that stops reading mid-stream cancels the sender, whose source is destroyed', HANG, async () => {
    const chunks = chunksOf(Array(200).fill(64 * KiB))
    const source = sourceOf(chunks)
    const l = link(source)
    for await (const _ of l.receiver) break
    await once(source, 'close')
    await settle()
    // Stopped near the window, far from the 12.5 MiB the source had.
    const postedBytes = l.posted.reduce((sum, p) => sum + p.bytes, 0)
    assert.ok(postedBytes <= 2 * CREDIT_WINDOW_BYTES + BATCH_BYTES, `${postedBytes} posted`)
    assert.deepEqual([l.ends(), l.errors], [0, []])
    l.close()
  })
})

describe('the receiver', () => {
  it('pushes views of the chunks it got, no copies', HANG, async () => {
    const acks: number[] = []
    const receiver = new CreditReceiver((n) => acks.push(n))
    const chunks = chunksOf([10, 20, 30]).map((chunk) => new Uint8Array(chunk))
    receiver.receive(chunks)
    receiver.finish()
    // Flowing, so each chunk is seen as pushed (read() would concatenate what is buffered).
    const got: Buffer[] = []
    receiver.on('data', (chunk: Buffer) => got.push(chunk))
    await once(receiver, 'end')
    assert.deepEqual(got.map((chunk, i) => Buffer.isBuffer(chunk) && chunk.buffer === chunks[i]?.buffer), [true, true, true])
    assert.deepEqual(got, chunks.map((chunk) => Buffer.from(chunk)))
  })

  it('stops pushing when its reader has enough, and acks only credit it handed on, ACK_BYTES or more at a time', HANG, async () => {
    const acks: number[] = []
    const receiver = new CreditReceiver((n) => acks.push(n))
    const chunks = chunksOf(Array(24).fill(BATCH_BYTES / 2)).map((chunk) => new Uint8Array(chunk))
    for (const chunk of chunks) receiver.receive([chunk])
    // One read: the reader's buffer is full after one chunk (push() returns false), the rest waits unacked.
    receiver.read(0)
    await settle()
    assert.equal(receiver.readableLength, BATCH_BYTES / 2)
    assert.deepEqual(acks, [])
    receiver.finish()
    const got = await readAll(receiver)
    assert.deepEqual(got, Buffer.concat(chunks))
    const total = chunks.reduce((sum, chunk) => sum + creditCost(chunk), 0)
    assert.ok(acks.every((n) => n >= ACK_BYTES))
    const acked = acks.reduce((sum, n) => sum + n, 0)
    assert.ok(acked <= total && total - acked < ACK_BYTES)
  })

  it('a chunk arriving after the reader went away is ignored', HANG, async () => {
    let destroyedWith: Error | null | undefined
    const receiver = new CreditReceiver(() => {}, (err) => { destroyedWith = err })
    receiver.destroy()
    await once(receiver, 'close')
    receiver.receive([new Uint8Array(10)])
    assert.deepEqual([destroyedWith, receiver.readableLength], [null, 0])
  })
})
