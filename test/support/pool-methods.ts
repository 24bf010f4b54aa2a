/**
 * Methods for the worker-pool tests: well-behaved ones, and ones that fail in every way a worker can (throw, crash
 * from a timer, exit, hang, run out of memory).
 *
 * Methods report what they see over a BroadcastChannel named in their params: the server runs in the test's process,
 * so the test's main thread hears its workers (see pool-channel.ts). This module is loaded by every pool worker, so it
 * imports only what the methods need; the server package itself is imported lazily by the one method that uses it.
 */
import { digestFile } from './bytes.js'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { BroadcastChannel, threadId } from 'node:worker_threads'
import { RpcError } from '@formcall/spec'
import { callContext, UploadedFile, UploadedFiles } from '@formcall/server/methods'
import { generatedChunks } from './pool-bytes.js'
import { readInOrder } from './read-in-order.js'

/** A message a method sends to the test. */
export interface PoolEvent {
  event: string
  id?: string
  threadId: number
  [key: string]: unknown
}

function announce (channel: string, message: { event: string, id?: string, [key: string]: unknown }): void {
  const port = new BroadcastChannel(channel)
  port.postMessage({ ...message, threadId } satisfies PoolEvent)
  port.close()
}

/** Resolves with the first message on `channel` that `matches`. */
async function heard (channel: string, matches: (message: Record<string, unknown>) => boolean): Promise<void> {
  const port = new BroadcastChannel(channel)
  try {
    await new Promise<void>((resolve) => {
      port.onmessage = (event) => {
        if (matches((event as { data: unknown }).data as Record<string, unknown>)) resolve()
      }
    })
  } finally {
    port.close()
  }
}

/** A thrown value as plain data, for reports. */
function describe (err: unknown): { name: string, message: string, code: unknown } {
  const error = err as { name?: unknown, message?: unknown, code?: unknown }
  return { name: String(error?.name), message: String(error?.message), code: error?.code ?? null }
}

const digestOf = digestFile

export default {
  echo: (value: unknown) => value,

  /** What each argument is, deep inside objects and arrays too: `file`, `files`, or its JSON. */
  fileKinds: (...args: unknown[]) => args.map(describeFileKinds),

  /** Fails the way a method's file-system error does: an ENOENT naming an absolute path. */
  readMissing: async () => await readFile('/var/lib/formcall-test/secret-dir/missing-file.txt', 'utf8'),

  /** Which thread ran the call: a worker's id, 0 inline. */
  whoami: () => ({ threadId }),

  /** Announces `started`, then waits for the test to post `{ event: 'release', id }`. */
  hold: async (channel: string, id: string) => {
    const released = heard(channel, (message) => message.event === 'release' && message.id === id)
    announce(channel, { event: 'started', id })
    await released
    return { id, threadId }
  },

  /**
   * Returns once `n` calls are inside this method at the same time (`complete: true`): with one call per worker, that
   * proves `n` workers are up. Each participant greets every newcomer, so late arrivals learn about earlier ones.
   * With `patienceMs`, gives up after that long (`complete: false`), so it can be retried under a short call timeout.
   */
  barrier: async (channel: string, n: number, patienceMs?: number) => {
    const me = `${threadId}:${randomUUID()}`
    const seen = new Set<string>()
    const port = new BroadcastChannel(channel)
    let timer: NodeJS.Timeout | undefined
    try {
      const complete = await new Promise<boolean>((resolve) => {
        port.onmessage = (event) => {
          const from = (event as { data: unknown }).data as string
          if (seen.has(from)) return
          seen.add(from)
          port.postMessage(me)
          if (seen.size >= n - 1) resolve(true)
        }
        port.postMessage(me)
        if (typeof patienceMs === 'number') timer = setTimeout(() => resolve(false), patienceMs)
      })
      return { complete, threadId }
    } finally {
      clearTimeout(timer)
      port.close()
    }
  },

  fail: {
    throws: (message: string) => { throw new Error(message) },
    rejects: async (message: string) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      throw new TypeError(message)
    },
    rpcError: () => { throw new RpcError(4040, 'no such invoice; check its number', { invoice: 'A-17' }) }
  },

  /** Methods that return at once and leave work behind in their worker. */
  leftovers: {
    /** Leaves a timer that throws `ms` after the call returned. */
    throwLater: (ms: number, message: string) => {
      setTimeout(() => { throw new Error(message) }, ms)
      return 'returned'
    },
    /** Leaves a promise that rejects `ms` after the call returned, with nothing to catch it. */
    rejectLater: (ms: number, message: string) => {
      void new Promise((_resolve, reject) => setTimeout(() => reject(new Error(message)), ms))
      return 'returned'
    },
    /** Leaves an interval that counts in the worker's global state. */
    tick: () => {
      const state = globalThis as { formcallTicks?: number }
      state.formcallTicks ??= 0
      setInterval(() => { state.formcallTicks = (state.formcallTicks ?? 0) + 1 }, 5)
      return { threadId }
    },
    /** What a call sees of the worker's global state. */
    ticks: () => ({ threadId, ticks: (globalThis as { formcallTicks?: number }).formcallTicks ?? null })
  },

  crash: {
    /** Throws where no call can catch it; the call itself never settles. */
    inTimer: async (message: string) => {
      setTimeout(() => { throw new Error(message) }, 5)
      await new Promise(() => {})
    },
    exit: (code: number) => { process.exit(code) },
    /** Blocks its thread for good: only terminating the worker ends it. */
    spin: () => {
      for (;;);
    },
    /**
     * Blocks its thread in native code for `ms`, waiting on a child process (`execFileSync`): terminating the worker
     * cannot end it sooner. (Node 24 interrupts `Atomics.wait` on terminate; a synchronous child process it cannot.)
     */
    blockInNative: (ms: number) => {
      execFileSync('sleep', [String(ms / 1000)])
      return 'woke up'
    },
    /** Allocates until the heap limit. */
    exhaustMemory: () => {
      const hoard: number[][] = []
      for (;;) hoard.push(new Array<number>(1 << 20).fill(hoard.length + 0.5))
    }
  },

  uploads: {
    /** Size and SHA-256 of one file; announces `started` on `channel` first, when given. */
    digest: async (file: UploadedFile, channel?: string, id?: string) => {
      if (channel !== undefined) announce(channel, { event: 'started', ...(id === undefined ? {} : { id }) })
      return { ...await digestOf(file), threadId }
    },

    /** Reads its file, announces `started`, then holds its worker (and upload lane) until released. */
    holdThenDigest: async (file: UploadedFile, channel: string, id: string) => {
      const digest = await digestOf(file)
      const released = heard(channel, (message) => message.event === 'release' && message.id === id)
      announce(channel, { event: 'started', id })
      await released
      return digest
    },

    /** Reads the second file before the first. */
    secondFirst: async (first: UploadedFile, second: UploadedFile, channel?: string) => {
      if (channel !== undefined) announce(channel, { event: 'started' })
      const secondText = await second.text()
      const firstText = await first.text()
      return { first: firstText, second: secondText, names: [first.filename, second.filename] }
    },

    /**
     * Reads `second` (so `first` is spooled to disk) and reports what it saw: whether its signal fired and how its
     * stream ended. Announces `reading` at the first chunk and `report` at the end.
     */
    watchAbort: async (first: UploadedFile, second: UploadedFile, channel: string) => {
      const context = callContext()
      const seen = {
        aborted: false,
        reason: null as ReturnType<typeof describe> | null,
        streamError: null as ReturnType<typeof describe> | null,
        streamEnded: false,
        bytes: 0
      }
      context.signal.addEventListener('abort', () => {
        seen.aborted = true
        seen.reason = describe(context.signal.reason)
      })
      try {
        for await (const chunk of second) {
          if (seen.bytes === 0) announce(channel, { event: 'reading', field: first.field })
          seen.bytes += (chunk as Buffer).length
        }
        seen.streamEnded = true
      } catch (err) {
        seen.streamError = describe(err)
      }
      announce(channel, { event: 'report', ...seen })
      return seen
    }
  },

  cut: {
    /**
     * Announces `started`, reads `files` in `order` (indexes; a later file first makes the server spool the earlier
     * ones), each to its end or error, then announces `report` with what every stream did (read-in-order.ts).
     */
    readInOrder: async (files: UploadedFile[], order: number[], channel: string, id: string) => {
      announce(channel, { event: 'started', id })
      const seen = await readInOrder(files, order)
      announce(channel, { event: 'report', id, files: seen })
      return seen
    }
  },

  downloads: {
    /** `size` generated bytes (pool-bytes.ts) as a streamed download with a known size. */
    generate: async (size: number) => {
      const { download } = await import('@formcall/server')
      return download(Readable.from(generatedChunks(size)), { filename: 'generated.bin', type: 'application/octet-stream', size })
    },

    /** `actual` generated bytes under a declared size of `declared`: a method that got its download's size wrong. */
    misSized: async (actual: number, declared: number) => {
      const { download } = await import('@formcall/server')
      return download(Readable.from(generatedChunks(actual)), { filename: 'mis-sized.bin', size: declared })
    },

    /** `good` generated bytes, then the stream fails (before any byte for 0); declares `size` when given. */
    failAfter: async (good: number, size?: number) => {
      const { download } = await import('@formcall/server')
      const source = Readable.from((async function * () {
        yield * generatedChunks(good)
        await new Promise((resolve) => setImmediate(resolve))
        throw new Error('the disk went away mid-download')
      })())
      return download(source, { filename: 'report.csv', type: 'text/csv', ...(size === undefined ? {} : { size }) })
    },

    /** `downloadFile(path)`, then the file is truncated or extended to `newSize` before its bytes are read. */
    changedFile: async (path: string, newSize: number) => {
      const { downloadFile } = await import('@formcall/server')
      const { truncate } = await import('node:fs/promises')
      const file = await downloadFile(path)
      await truncate(path, newSize)
      return file
    }
  }
}

/** A value with every UploadedFile shown as "file" and every UploadedFiles as "files". */
export function describeFileKinds (value: unknown): unknown {
  if (value instanceof UploadedFile) return 'file'
  if (value instanceof UploadedFiles) return 'files'
  if (Array.isArray(value)) return value.map(describeFileKinds)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, describeFileKinds(item)]))
  }
  return value
}
