#!/usr/bin/env bash
# Native benchmark: headlight (benches/native.rs, release build) against Hugging Face transformers
# in PyTorch eager on the same GPT-2-small-shaped checkpoint, with the same number of threads
# (THREADS, default 2). Prints both tables and the ratios; writes bench/results/native.json.
# Installs the peer into bench/.venv on first use (about 3 GB of wheels).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
threads="${THREADS:-2}"
dir="$root/target/bench/gpt2-small-random"

if [[ ! -x bench/.venv/bin/python ]] || ! bench/.venv/bin/python -c 'import torch, transformers' 2>/dev/null; then
  echo "==> installing the PyTorch peer into bench/.venv" >&2
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q -r bench/requirements.txt
fi

export RAYON_NUM_THREADS="$threads" MATMUL_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
cargo bench --locked --bench native -- --dir "$dir"
mkdir -p bench/results
bench/.venv/bin/python bench/torch_peer.py --dir "$dir" --threads "$threads" \
  --ours "$dir/headlight.json" --out bench/results/native.json
