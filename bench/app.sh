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
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dist" >/dev/null 2>&1 &
server=$!
trap 'kill "$server"' EXIT
sleep 1
mkdir -p bench/results
node bench/browser/app.mjs "http://127.0.0.1:$port/" "$dist" bench/results/app.json
