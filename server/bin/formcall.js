#!/usr/bin/env node
// Registers TypeScript support so both this package's sources and `.ts` methods modules load.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli.ts')
