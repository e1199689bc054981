//! The page's end of a worker: starts it, sends requests, hands replies to a callback.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, MessagePort, Worker, WorkerOptions};

/// The workers' loader scripts, written next to the page: the worker built for simd128, the
/// same built with relaxed SIMD (fused multiply-add in the kernels), and that with wasm threads
/// (`scripts/threads/build.sh`).
const WORKER_SCRIPT: &str = "./headlight-worker_loader.js";
const RELAXED_WORKER_SCRIPT: &str = "./headlight-worker-relaxed_loader.js";
const THREADS_WORKER_SCRIPT: &str = "./headlight-worker-threads_loader.js";

/// Where tests and benchmarks set the inference worker's thread count (`1`: the unthreaded
/// build). Read from localStorage only, so a link cannot set it.
const THREADS_OVERRIDE_KEY: &str = "headlight.threads";

/// Threads the inference worker starts by default, at most: generation streams the weights
/// from memory, which more threads than this rarely read faster.
const MAX_THREADS: usize = 4;

/// Where tests make the page start the simd128 worker (value `simd128`) in a browser that has
/// relaxed SIMD. Read from localStorage only, so a link cannot set it.
const SIMD_OVERRIDE_KEY: &str = "headlight.simd";

/// A module whose one function uses relaxed SIMD (`i8x16.relaxed_swizzle` of two splats): the
/// engines that validate it run the relaxed build; a module using relaxed SIMD would fail to
/// compile on the others (Safari, older browsers), which get the simd128 build.
const RELAXED_SIMD_PROBE: [u8; 36] = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11];

/// A test override from the page's localStorage.
pub(crate) fn stored(key: &str) -> Option<String> {
    web_sys::window()?.local_storage().ok().flatten().and_then(|s| s.get_item(key).ok().flatten())
}

fn relaxed_simd() -> bool {
    js_sys::WebAssembly::validate(&js_sys::Uint8Array::from(&RELAXED_SIMD_PROBE[..])).unwrap_or(false) && stored(SIMD_OVERRIDE_KEY).as_deref() != Some("simd128")
}

/// The threads the inference worker runs its kernels on: several only where the page is
/// cross-origin isolated (the threaded build shares its memory, a SharedArrayBuffer) and the
/// browser has relaxed SIMD (the threaded build uses it); then the override, or the machine's
/// logical cores up to [`MAX_THREADS`].
pub(crate) fn inference_threads() -> usize {
    let Some(window) = web_sys::window() else { return 1 };
    let isolated = js_sys::Reflect::get(&window, &"crossOriginIsolated".into()).ok().and_then(|v| v.as_bool()).unwrap_or(false);
    if !isolated || !relaxed_simd() {
        return 1;
    }
    let cores = (window.navigator().hardware_concurrency() as usize).clamp(1, MAX_THREADS);
    stored(THREADS_OVERRIDE_KEY).and_then(|n| n.parse().ok()).filter(|&n| n >= 1).unwrap_or(cores)
}

/// The worker build this browser runs fastest on `threads` threads.
fn worker_script(threads: usize) -> &'static str {
    match threads {
        2.. => THREADS_WORKER_SCRIPT,
        _ if relaxed_simd() => RELAXED_WORKER_SCRIPT,
        _ => WORKER_SCRIPT,
    }
}

pub struct Bridge {
    worker: Worker,
    threads: usize,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(ErrorEvent)>,
}

/// Dropping the bridge ends its worker.
impl Drop for Bridge {
    fn drop(&mut self) {
        // Unhooked first: nothing the dead worker sent reaches the closures dropped with it.
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

impl Bridge {
    /// Starts the worker named `name` (see `worker::start`), the build for `threads` threads
    /// ([`inference_threads`]); its messages, read as `M`, go to `on_message`, its death to
    /// `on_error`.
    pub fn spawn<M: DeserializeOwned>(name: &str, threads: usize, on_message: impl Fn(M) + 'static, on_error: impl Fn(String) + 'static) -> Result<Bridge, String> {
        let options = WorkerOptions::new();
        options.set_name(name);
        let worker = Worker::new_with_options(worker_script(threads), &options).map_err(|e| format!("the {name} worker cannot start: {e:?}"))?;
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| match serde_wasm_bindgen::from_value::<M>(event.data()) {
            Ok(message) => on_message(message),
            Err(e) => web_sys::console::error_1(&format!("headlight: unreadable worker message: {e}").into()),
        });
        let on_error = Closure::<dyn Fn(ErrorEvent)>::new(move |event: ErrorEvent| on_error(event.message()));
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Bridge { worker, threads, _on_message: on_message, _on_error: on_error })
    }

    /// The threads the worker was started for.
    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn send(&self, message: &impl Serialize) {
        self.post(message, None);
    }

    /// Sends `message`, which holds `port`, handing the port over.
    pub fn send_port(&self, message: &impl Serialize, port: &MessagePort) {
        self.post(message, Some(port));
    }

    fn post(&self, message: &impl Serialize, port: Option<&MessagePort>) {
        // Seeds are u64: BigInt carries them whole where a Number would round them.
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_large_number_types_as_bigints(true);
        let sent = message.serialize(&serializer).map_err(|e| JsValue::from_str(&e.to_string())).and_then(|value| match port {
            Some(port) => self.worker.post_message_with_transfer(&value, &js_sys::Array::of1(port)),
            None => self.worker.post_message(&value),
        });
        if let Err(e) = sent {
            web_sys::console::error_2(&"headlight: cannot reach a worker".into(), &e);
        }
    }
}
