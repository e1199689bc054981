// One thread of the threaded inference worker's pool (src/worker/pool.rs): it is sent the
// compiled module, the worker's shared memory and its rayon thread, instantiates the module on
// that memory (a thread of its own: its own stack and thread-locals) and runs the thread.
importScripts("./headlight-worker-threads.js");
self.onmessage = ({ data: [module, memory, thread] }) => {
  self.onmessage = null;
  wasm_bindgen.initSync({ module, memory });
  wasm_bindgen.pool_thread(thread);
};
