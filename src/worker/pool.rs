//! The inference worker's threads, in its threaded build (the `threads` feature, wasm atomics):
//! where the page is cross-origin isolated, it starts `count - 1` Web Workers (the app's
//! `public/headlight-pool.js`, the browser benchmark's `bench/browser/pool.mjs`) that
//! instantiate this same module on this worker's shared memory and run as rayon threads. The inference worker is thread 0 of the pool: the kernels it calls split
//! their work over the pool ([`crate::kernels::threads`]), and it keeps its own event loop
//! between calls. A thread that never starts only leaves its share with the others.

use std::sync::atomic::{AtomicUsize, Ordering};

use wasm_bindgen::prelude::*;
use web_sys::{Worker, WorkerOptions, WorkerType};

use crate::worker::scope::js_error;

/// Pool threads running, the inference worker not counted (rayon runs the start handler on the
/// threads it spawns only).
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// Starts a pool of `count` threads, this one included, and makes it the pool the kernels
/// split their work over, for as long as the worker lives. Nothing happens for a count of 1.
/// Each pool thread is a worker running `script` (a module script where `module`), which
/// instantiates the module it is sent on the memory it is sent, then calls [`pool_thread`].
pub fn start(count: usize, script: &str, module: bool) -> Result<(), String> {
    if count < 2 {
        return Ok(());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(count)
        .use_current_thread()
        .start_handler(|_| {
            STARTED.fetch_add(1, Ordering::Relaxed);
        })
        .spawn_handler(|thread| {
            let options = WorkerOptions::new();
            options.set_name("pool");
            options.set_type(if module { WorkerType::Module } else { WorkerType::Classic });
            let worker = Worker::new_with_options(script, &options).map_err(|e| std::io::Error::other(js_error(e)))?;
            // the thread's state stays on the shared heap until the thread takes it
            let thread = Box::into_raw(Box::new(thread)) as usize;
            let message = js_sys::Array::of3(&wasm_bindgen::module(), &wasm_bindgen::memory(), &JsValue::from(thread));
            worker.post_message(&message).map_err(|e| std::io::Error::other(js_error(e)))
        })
        .build()
        .map_err(|e| format!("the worker's threads cannot start: {e}"))?;
    // thread 0 is this worker's own thread, so the pool must live as long as the worker does
    std::mem::forget(pool);
    Ok(())
}

/// Threads the kernels run on now: the pool threads that have started, and this one.
pub fn running() -> usize {
    STARTED.load(Ordering::Relaxed) + 1
}

/// A pool thread's body, called by the pool's script once the module is instantiated on the
/// shared memory: runs rayon's thread `thread` until the pool ends.
#[wasm_bindgen]
#[allow(unsafe_code)]
pub fn pool_thread(thread: usize) {
    // SAFETY: `thread` is the pointer `start`'s spawn handler made from a `Box<ThreadBuilder>`
    // and sent to exactly one pool worker, whose script calls this once with it.
    let thread = unsafe { Box::from_raw(thread as *mut rayon::ThreadBuilder) };
    thread.run();
}
