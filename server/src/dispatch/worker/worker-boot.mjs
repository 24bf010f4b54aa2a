// Pool workers start here: register TypeScript support in this thread (loader hooks are per thread on Node 20, and
// `--import` in a worker's execArgv does not carry them), then load the worker's real code and the methods module.
import { register } from 'tsx/esm/api'

register()
const { default: runTask } = await import('./worker-entry.ts')
export default runTask
