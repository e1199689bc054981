//! headlight's inference worker: a second Trunk binary, started by the page as a Web Worker.

#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
fn main() {
    headlight::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("headlight-worker is the browser app's inference worker, a wasm binary: build it with `trunk build --release`.");
}
