// Starts the threaded inference worker (scripts/threads/build.sh builds it): the first
// instantiation makes the shared memory its pool threads (headlight-pool.js) then join.
importScripts("./headlight-worker-threads.js");
wasm_bindgen({ module_or_path: "./headlight-worker-threads_bg.wasm" });
