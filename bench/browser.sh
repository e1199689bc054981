#!/usr/bin/env bash
# Browser benchmark: headlight's release wasm build against onnxruntime-web (npm) on the same
# GPT-2-small-shaped checkpoint in headless Chromium, at the same number of threads (THREADS,
# default 1); plus, on one thread, the matrix-product microbenchmark against the simd128 peak;
# and the peak wasm memory. Writes bench/results/browser.json.
# Needs the checkpoint and the native peer's venv: run bench/native.sh first. RELAXED=1 builds
# headlight with relaxed SIMD (fused multiply-add), as the page runs it where the browser has it;
# PRODUCTS=1 times the matrix products only. DTYPE=f16 runs both engines on an f16 checkpoint
# (bench/gpt2_small.py --dtype f16; headlight keeps it 16-bit, onnxruntime-web reads the same
# values exported as f32). THREADS=N (N > 1) builds headlight with wasm threads and relaxed SIMD
# (scripts/threads/cargo.sh, as the app's threaded worker) and serves the page cross-origin
# isolated.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [[ "${DTYPE:-f32}" == f16 ]]; then
  model="gpt2-small-f16"
  python3 bench/gpt2_small.py --out "target/bench/$model" --dtype f16
else
  model="gpt2-small-random"
fi
dir="target/bench/$model"
[[ -f "$dir/model.safetensors" ]] || { echo "run bench/native.sh first: it writes the checkpoint" >&2; exit 1; }

if [[ ! -f "$dir/gpt2-attn.onnx" ]]; then
  echo "==> exporting the checkpoint to ONNX for onnxruntime-web" >&2
  bench/.venv/bin/python bench/export_onnx.py --dir "$dir"
fi
threads="${THREADS:-1}"
echo "==> building the wasm benchmark (release)" >&2
if (( threads > 1 )); then
  scripts/threads/cargo.sh build --release --features bench,relaxed-simd,threads --bin headlight-bench
  wasm="${CARGO_TARGET_DIR:-$root/target}/threads/wasm32-unknown-unknown/release/headlight-bench.wasm"
  RELAXED=1
else
  cargo build --locked --release --target wasm32-unknown-unknown --features "bench${RELAXED:+,relaxed-simd}" --bin headlight-bench
  wasm="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/headlight-bench.wasm"
fi
wasm-bindgen --target web --out-dir bench/browser/pkg "$wasm"
(cd bench/browser && [[ -d node_modules/onnxruntime-web ]] || npm ci --no-audit --no-fund)

source scripts/serve_static.sh
serve_static "$root" isolated
mkdir -p bench/results
suffix="${RELAXED:+-relaxed}${DTYPE:+-$DTYPE}"
if (( threads > 1 )); then suffix+="-threads$threads"; fi
node bench/browser/run.mjs "${STATIC_URL}bench/browser/index.html?model=$model&threads=$threads${PRODUCTS:+&products}" "bench/results/browser$suffix.json"
