#!/usr/bin/env bash
# Builds the threaded inference worker (the `headlight-worker-threads` binary: wasm atomics,
# relaxed SIMD) into Trunk's staging folder, beside the workers Trunk builds itself: a Trunk hook
# (Trunk.toml), in Trunk's profile. cargo.sh here builds it on the pinned nightly.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
staging="${TRUNK_STAGING_DIR:?run by trunk as a hook}"
profile="${TRUNK_PROFILE:-debug}"
"$here/cargo.sh" build --bin headlight-worker-threads --features threads,relaxed-simd $([[ "$profile" == release ]] && echo --release)
wasm-bindgen --target no-modules --no-typescript --out-dir "$staging" --out-name headlight-worker-threads \
  "${CARGO_TARGET_DIR:-$root/target}/threads/wasm32-unknown-unknown/$profile/headlight-worker-threads.wasm"
