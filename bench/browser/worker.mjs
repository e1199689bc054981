// The benchmark's headlight on threads (headlight.mjs): a module worker that starts a pool of
// pool.mjs workers on its shared memory, waits until they run, then answers the page's calls.
import * as wasm from './pkg/headlight-bench.js';
import { calls } from './calls.mjs';

const local = calls(wasm);
local.start = async (threads) => {
  await wasm.default();
  wasm.start_threads(threads, new URL('./pool.mjs', import.meta.url).href);
  for (let waited = 0; wasm.running_threads() < threads; waited += 10) {
    if (waited > 10_000) throw new Error(`only ${wasm.running_threads()} of ${threads} threads started`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { isa: wasm.isa(), threads: wasm.running_threads() };
};

self.onmessage = async ({ data: { id, name, args } }) => {
  try {
    self.postMessage({ id, ok: await local[name](...args) });
  } catch (e) {
    self.postMessage({ id, error: String(e?.message ?? e) });
  }
};
