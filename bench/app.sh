#!/usr/bin/env bash
# App benchmark: builds the page in release, serves it, and times cold start, click-to-highlight
# and a timeline step in headless Chromium; prints the gzipped bundle size. Writes
# bench/results/app.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dist="target/bench/dist"
trunk build --release --dist "$dist"
(cd bench/browser && [[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund)
source scripts/serve_static.sh
serve_static "$dist"
mkdir -p bench/results
node bench/browser/app.mjs "$STATIC_URL" "$dist" bench/results/app.json
