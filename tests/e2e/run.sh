#!/usr/bin/env bash
# End-to-end tests: build the page, serve dist/ on a free localhost port, run the browser tests.
# Screenshots land in tests/e2e/output/ (git-ignored). Set SKIP_BUILD=1 to test the dist/ there is.
# The page is built in the dev profile, whose dependencies the wasm tests have compiled already
# (they are optimised there too); E2E_RELEASE=1 tests the release build instead. DIST names the
# folder to build into and serve (default dist); E2E_TESTS picks test files (default *.test.mjs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dist="$(cd "$root" && realpath -m "${DIST:-dist}")"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$root" && trunk build --dist "$dist" ${E2E_RELEASE:+--release})
fi
(cd "$here" && [[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund)

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dist" >/dev/null 2>&1 &
server=$!
trap 'kill "$server"' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/" >/dev/null && break
  sleep 0.1
done

export HEADLIGHT_URL="http://127.0.0.1:$port/"
# hub.test.mjs serves this folder itself, beside its stand-in for the Hugging Face Hub.
export HEADLIGHT_DIST="$dist"
export OUTPUT_DIR="$here/output"
cd "$here"
# shellcheck disable=SC2086
node --test --test-concurrency=1 ${E2E_TESTS:-*.test.mjs}
