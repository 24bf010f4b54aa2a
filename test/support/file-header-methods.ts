import { BroadcastChannel } from 'node:worker_threads'
import type { UploadedFile, UploadedFiles } from '@formcall/server'

/** What reading one property gave: its value, or the message of what it threw. */
export type Attempt = { value: unknown } | { threw: string }

function attempt (read: () => unknown): Attempt {
  try {
    return { value: read() }
  } catch (err) {
    return { threw: (err as Error).message }
  }
}

/** Posts `message` on the BroadcastChannel `name`, which reaches the test from a worker thread as from the main one. */
function tell (name: string, message: unknown): void {
  const channel = new BroadcastChannel(name)
  channel.postMessage(message)
  channel.close()
}

async function until (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * Methods that look at files' headers at chosen moments, for the tests of what `filename` and `type` say before and
 * after a part arrived. Served inline (imported) and from a worker pool (as a methods module).
 */
export const fileHeaderMethods = {
  files: {
    /**
     * Reads both files' headers as soon as it starts and tells the test on `channel`; then waits for the second
     * file's headers with `ready()` and reads them again.
     */
    headersAtStart: async (channel: string, first: UploadedFile, second: UploadedFile) => {
      const atStart = {
        firstFilename: attempt(() => first.filename),
        firstType: attempt(() => first.type),
        secondArrived: second.arrived,
        secondFilename: attempt(() => second.filename),
        secondType: attempt(() => second.type),
        secondJson: second.toJSON()
      }
      tell(channel, 'started')
      await second.ready()
      return { atStart, afterReady: { filename: second.filename, type: second.type } }
    },
    /**
     * Reads the first file to its end, then, without asking for the second, waits until its part has arrived (the
     * parser reaches it on its own) and reads its headers.
     */
    headersOnArrival: async (channel: string, first: UploadedFile, second: UploadedFile) => {
      tell(channel, 'started')
      const size = (await first.bytes()).length
      await until(() => second.arrived, 'the second part to arrive')
      return { size, filename: second.filename, type: second.type, text: await second.text() }
    }
  },
  order: {
    /** Reads every file of `docs` (a list, which ends with the body) before `note`, whose part came first. */
    listThenFile: async (docs: UploadedFiles, note: UploadedFile) => {
      const texts: string[] = []
      for await (const doc of docs) texts.push(await doc.text())
      return { docs: texts, note: await note.text() }
    },
    /** Reads its last file first, leaving the earlier (small) ones unread until then. */
    lastFirst: async (a: UploadedFile, b: UploadedFile, c: UploadedFile) => {
      const last = await c.text()
      return [await a.text(), await b.text(), last]
    }
  },
  /** Answers at once, without reading its file. */
  quick: (_file: UploadedFile) => 'done',
  /** Takes `ms` to finish, then fails: a notification's answer must neither come before that nor report it. */
  slowFailure: async (ms: number) => {
    await new Promise((resolve) => setTimeout(resolve, ms))
    throw new Error('failed after the delay')
  }
}

export default fileHeaderMethods
