// Pool workers start here. The worker's own code arrives as one bundled ES module (no loader needed); TypeScript
// support is registered in this thread only when the methods module is TypeScript (loader hooks are per thread on
// Node 20, and `--import` in a worker's execArgv does not carry them). tsx costs ~19 MiB per worker.
import { workerData } from 'node:worker_threads'

const { entry, methodsModule } = workerData
if (/\.[cm]?tsx?$/i.test(new URL(methodsModule).pathname) || /\.ts$/.test(entry)) {
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')])
  esm.register()
  cjs.register()
}
const { default: runTask } = await import(entry)
export default runTask
