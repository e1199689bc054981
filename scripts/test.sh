#!/usr/bin/env bash
# Runs every headlight test: native (unit, parity with transformers, loader, CLI), the parity
# check again in wasm in headless Chromium (simd128 and relaxed-SIMD kernels), and the browser end-to-end tests of the built app.
# Installs whatever is missing first; trunk (the longest install) builds in the background
# while the native tests build and run.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$HEADLIGHT_ROOT"
need_wasm_target
need_threads_toolchain
need_chromium
trunk_log="$(mktemp)"
need_trunk >"$trunk_log" 2>&1 &
trunk_install=$!

step "native tests"
cargo test --locked

# The threaded worker (its own nightly, std and target folder) compiles while the wasm tests
# run, which leave a core idle while Chromium runs them; Trunk's hook finds it built.
threads_log="$(mktemp)"
scripts/threads/cargo.sh build --bin headlight-worker-threads --features threads,relaxed-simd >"$threads_log" 2>&1 &
threads_build=$!

need_wasm_bindgen
step "wasm tests in headless Chromium"
CHROMEDRIVER="$(command -v chromedriver)" WASM_BINDGEN_TEST_TIMEOUT=600 \
  cargo test --locked --target wasm32-unknown-unknown --test wasm_parity
step "wasm tests again, the kernels built with relaxed SIMD (the page's worker where the browser has it)"
CHROMEDRIVER="$(command -v chromedriver)" WASM_BINDGEN_TEST_TIMEOUT=600 \
  cargo test --locked --target wasm32-unknown-unknown --features relaxed-simd --test wasm_parity

if ! wait "$trunk_install"; then
  cat "$trunk_log" >&2
  step "installing trunk failed"
  exit 1
fi
if ! wait "$threads_build"; then
  cat "$threads_log" >&2
  step "building the threaded worker failed"
  exit 1
fi
step "browser end-to-end tests"
tests/e2e/run.sh
