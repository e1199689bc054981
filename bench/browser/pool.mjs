// One pool thread of the benchmark's threaded headlight (worker.mjs, src/worker/pool.rs): it
// instantiates the module it is sent on the shared memory it is sent and runs its rayon thread.
import init, { pool_thread } from './pkg/headlight-bench.js';

self.onmessage = async ({ data: [module, memory, thread] }) => {
  self.onmessage = null;
  await init({ module_or_path: module, memory });
  pool_thread(thread);
};
