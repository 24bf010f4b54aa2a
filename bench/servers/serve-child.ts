import { holdAppHeap } from '../support/app-heap.js'
import type { StatsReply, StatsRequest } from '../support/messages.js'
import { readSettings } from '../support/settings.js'

/**
 * The lifecycle every bench server child shares: take on the application heap every server holds
 * (`BENCH_APP_HEAP_MB`, see support/app-heap.ts), tell the orchestrator the port, answer its `stats` requests, and
 * close on SIGTERM (or when the orchestrator goes away, so no server outlives a crashed run).
 *
 * @example
 * ```ts
 * const server = http.createServer(handler).listen(0, '127.0.0.1', () => {
 *   serveChild((server.address() as AddressInfo).port, async () => { server.close() })
 * })
 * ```
 */
export function serveChild (port: number, close: () => Promise<void>): void {
  // The orchestrator's environment is the child's: both read the same settings.
  holdAppHeap(readSettings().appHeapMiB)
  const started = process.cpuUsage()
  const shutdown = (): void => {
    close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', shutdown)
  process.once('disconnect', shutdown)
  process.on('message', (message: StatsRequest) => {
    if (message.type !== 'stats') return
    const used = process.cpuUsage(started)
    const reply: StatsReply = {
      type: 'stats',
      cpu: { userMs: used.user / 1000, systemMs: used.system / 1000 },
      maxRssKiB: process.resourceUsage().maxRSS
    }
    process.send?.(reply)
  })
  process.send?.({ type: 'ready', port })
}
