import { fileURLToPath } from 'node:url'
import { fileHeaderMethods } from './file-header-methods.js'
import { startServer, type RunningServer } from './start-server.js'

/**
 * A server of `fileHeaderMethods` in each isolation mode: inline, and a one-worker pool loading the same methods as a
 * module, so a test proves both modes bind files alike.
 */
export const FILE_HEADER_SERVERS: ReadonlyArray<{ mode: string, start: () => Promise<RunningServer> }> = [
  { mode: 'inline', start: async () => await startServer({ methods: fileHeaderMethods }) },
  {
    mode: 'worker',
    start: async () => await startServer({
      methodsModule: fileURLToPath(new URL('./file-header-methods.ts', import.meta.url)),
      isolation: 'worker',
      workers: 1
    })
  }
]
