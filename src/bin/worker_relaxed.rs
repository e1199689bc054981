//! headlight's worker built with the `relaxed-simd` feature: its kernels fuse multiply and add
//! (`f32x4.relaxed_madd`). The page starts it instead of `headlight-worker` where the browser
//! validates relaxed SIMD (see `ui::bridge`).

#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
fn main() {
    headlight::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("headlight-worker-relaxed is the browser app's worker with relaxed SIMD, a wasm binary: build it with `trunk build --release`.");
}
