// Pool workers start here: plain JavaScript, so it loads in a worker thread whatever the parent's loaders (loader
// hooks are per thread and do not reach workers). In a published package the entry is the compiled worker-entry.js;
// only inside formcall's own repository, running from sources, is it TypeScript, and then tsx is registered in this
// thread first. A TypeScript methods module gets tsx from worker-entry itself (import-module.ts).
//
// No top-level await (see worker-entry.ts: a worker terminated while such a module evaluates aborts the process in
// V8): the default export is a promise of the task function, which piscina awaits.
import { workerData } from 'node:worker_threads'

const { entry } = workerData
const loader = entry.endsWith('.ts')
  ? Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register()
    cjs.register()
  })
  : Promise.resolve()
export default loader.then(() => import(entry)).then((module) => module.default)
