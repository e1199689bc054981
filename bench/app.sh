#!/usr/bin/env bash
# App benchmark: builds the page in release, serves it, and in headless Chromium times the cold
# start, click-to-highlight and a timeline step on the bundled model, then the users' workload
# (long tasks, clicks by Event Timing, view switches, panels, timeline, export, heap and DOM) on
# mini and on a GPT-2-small-shaped checkpoint with random weights (bench/gpt2_small.py) at their
# whole context. BEFORE=<git revision> builds that revision too and runs it in the same browser,
# turn about. Prints the figures; writes bench/results/app.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bench="target/bench"
trunk build --release --dist "$bench/dist"
python3 bench/gpt2_small.py --out "$bench/gpt2-small-app"
if [[ -n "${BEFORE:-}" ]]; then
  rm -rf "$bench/before-src"
  git worktree prune
  git worktree add --detach "$bench/before-src" "$BEFORE"
  (cd "$bench/before-src" && CARGO_TARGET_DIR="$root/target" trunk build --release --dist "$root/$bench/before-dist")
  git worktree remove --force "$bench/before-src"
fi
(cd bench/browser && [[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund)
source scripts/serve_static.sh
serve_static "$bench"
mkdir -p bench/results
BEFORE_URL="${BEFORE:+${STATIC_URL}before-dist/}" SMALL_DIR="$root/$bench/gpt2-small-app" \
  node bench/browser/app.mjs "${STATIC_URL}dist/" "$bench/dist" bench/results/app.json
