#!/usr/bin/env bash
# Builds the app (release wasm) and serves it with the bundled model; open the printed URL.
# Installs whatever is missing first (wasm target, the threaded worker's pinned nightly, trunk,
# wasm-bindgen-cli).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cd "$HEADLIGHT_ROOT"
need_wasm_target
need_threads_toolchain
need_wasm_bindgen
need_trunk
PORT="${PORT:-8080}"
step "building, then serving headlight on http://127.0.0.1:$PORT/"
exec trunk serve --release --address 127.0.0.1 --port "$PORT"
