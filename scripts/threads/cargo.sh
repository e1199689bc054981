#!/usr/bin/env bash
# `cargo ARGS` for wasm with threads: on the nightly pinned in rust-toolchain.toml here (cargo
# runs from this folder), std rebuilt with atomics, shared memory, in target/threads (other
# flags, other std). Used by build.sh (the app's threaded worker) and bench/browser.sh (THREADS).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# The linker makes the memory shared and imported (each thread instantiates the module on the
# same memory), with its maximum all of wasm32's 4 GiB (GPT-2 small at its whole context needs
# about 1.1 GiB), and exports the thread-local storage symbols wasm-bindgen's thread set-up uses.
flags=(-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128)
for arg in --shared-memory --import-memory --max-memory=4294967296 \
  --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base; do
  flags+=(-C "link-arg=$arg")
done
export RUSTFLAGS="${flags[*]}"
cd "$here"
# No default features: the threaded build is a worker and never compiles the page's UI (Leptos).
exec cargo "$1" --manifest-path "$root/Cargo.toml" --locked --no-default-features -Z build-std=panic_abort,std \
  --target wasm32-unknown-unknown --target-dir "${CARGO_TARGET_DIR:-$root/target}/threads" "${@:2}"
