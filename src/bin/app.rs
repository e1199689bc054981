//! headlight's page: mounts the Leptos app. The model runs in `headlight-worker`.

#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
fn main() {
    headlight::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("headlight-app is the browser app, a wasm binary: build it with `trunk build --release` and serve dist/.");
}
