//! headlight's worker built with wasm threads and relaxed SIMD (`scripts/threads/build.sh`):
//! the page starts it as the inference worker where it is cross-origin isolated, and it runs the
//! kernels on a pool of Web Workers sharing its memory (see `worker::pool`).

#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
fn main() {
    headlight::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("headlight-worker-threads is the browser app's threaded inference worker, a wasm binary: build it with `trunk build --release`.");
}
