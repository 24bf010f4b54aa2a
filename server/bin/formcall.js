#!/usr/bin/env node
// Registers TypeScript support (ES modules and CommonJS, as `node --import tsx` does) so this package's sources and
// `.ts` methods modules load, wherever they live.
import { register as registerEsm } from 'tsx/esm/api'
import { register as registerCjs } from 'tsx/cjs/api'

registerEsm()
registerCjs()
await import('../src/cli.ts')
