// Pool workers start here: register TypeScript support in this thread (loader hooks are per thread on Node 20, and
// `--import` in a worker's execArgv does not carry them), then load the worker's real code and the methods module.
import { register as registerEsm } from 'tsx/esm/api'
import { register as registerCjs } from 'tsx/cjs/api'

registerEsm()
registerCjs()
const { default: runTask } = await import('./worker-entry.ts')
export default runTask
