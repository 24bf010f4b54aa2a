// Pool workers start here: plain JavaScript, so it loads in a worker thread whatever the parent's loaders (loader
// hooks are per thread and do not reach workers). In a published package the entry is the compiled worker-entry.js;
// only inside formcall's own repository, running from sources, is it TypeScript, and then tsx is registered in this
// thread first. A TypeScript methods module gets tsx from worker-entry itself (import-module.ts).
import { workerData } from 'node:worker_threads'

const { entry } = workerData
if (entry.endsWith('.ts')) {
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')])
  esm.register()
  cjs.register()
}
const { default: runTask } = await import(entry)
export default runTask
