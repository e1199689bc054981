// headlight's side of the browser benchmark, the same calls (calls.mjs) on one thread or
// several. On one thread the page calls the wasm build (pkg/) itself; on several (`?threads=N`:
// a build with wasm threads, bench/browser.sh THREADS=N) the calls go to a module worker
// (worker.mjs) that starts the pool as the app's inference worker does, since a page's own
// thread may not block on the pool. Every call answers with a promise either way.
import * as wasm from './pkg/headlight-bench.js';
import { calls } from './calls.mjs';

/** headlight on `threads` threads: `{ isa, threads, call(name, args, transfer) }`. */
export async function headlight(threads) {
  if (threads <= 1) {
    await wasm.default();
    const local = calls(wasm);
    return { isa: wasm.isa(), threads: 1, call: async (name, args = []) => local[name](...args) };
  }
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  const waiting = new Map();
  let next = 0;
  worker.onmessage = ({ data: { id, ok, error } }) => {
    const { resolve, reject } = waiting.get(id);
    waiting.delete(id);
    if (error === undefined) resolve(ok); else reject(new Error(error));
  };
  const call = (name, args = [], transfer = []) => new Promise((resolve, reject) => {
    waiting.set(++next, { resolve, reject });
    worker.postMessage({ id: next, name, args }, transfer);
  });
  return { ...(await call('start', [threads])), call };
}
