import type { UploadedFile } from '@formcall/server'
import { waitFor } from './wait.js'

/** What a method saw of one file stream. */
export type StreamEvent =
  | { kind: 'data', bytes: number }
  | { kind: 'end', bytes: number }
  | { kind: 'error', bytes: number, code: unknown, message: string }

/**
 * A record a method shares with its test: every chunk, the end, or the error of the file streams it read, and any
 * other note. The test waits on it, so assertions follow what the method saw rather than the clock.
 *
 * @example
 * ```ts
 * const probe = new Probe()
 * const methods = { watch: async (file: UploadedFile) => await probe.watch(file) }
 * await probe.until((events) => events.some((e) => e.kind === 'error'))
 * ```
 */
export class Probe {
  readonly events: StreamEvent[] = []
  readonly notes: Array<Record<string, unknown>> = []

  /** Reads `file` to its end or error, recording each step; resolves with the byte count, never rejects. */
  async watch (file: UploadedFile): Promise<{ bytes: number, ended: boolean }> {
    let bytes = 0
    try {
      for await (const chunk of file) {
        bytes += (chunk as Buffer).length
        this.events.push({ kind: 'data', bytes })
      }
      this.events.push({ kind: 'end', bytes })
      return { bytes, ended: true }
    } catch (err) {
      const error = err as { code?: unknown, message?: string }
      this.events.push({ kind: 'error', bytes, code: error.code, message: String(error.message) })
      return { bytes, ended: false }
    }
  }

  note (entry: Record<string, unknown>): void {
    this.notes.push(entry)
  }

  /** The bytes seen so far. */
  get bytes (): number {
    return this.events.at(-1)?.bytes ?? 0
  }

  get ended (): boolean {
    return this.events.some((event) => event.kind === 'end')
  }

  get error (): Extract<StreamEvent, { kind: 'error' }> | undefined {
    return this.events.find((event): event is Extract<StreamEvent, { kind: 'error' }> => event.kind === 'error')
  }

  async until (condition: (probe: this) => boolean, what = 'the method to report'): Promise<void> {
    await waitFor(() => condition(this), what)
  }
}
