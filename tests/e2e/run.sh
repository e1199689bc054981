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
(cd "$here" && [[ -d node_modules/playwright-core && -d node_modules/axe-core ]] || npm ci --no-audit --no-fund)

source "$root/scripts/serve_static.sh"
serve_static "$dist"

export HEADLIGHT_URL="$STATIC_URL"
# hub.test.mjs serves this folder itself, beside its stand-in for the Hugging Face Hub.
export HEADLIGHT_DIST="$dist"
export OUTPUT_DIR="$here/output"
cd "$here"
# shellcheck disable=SC2086
node --test --test-concurrency=1 ${E2E_TESTS:-*.test.mjs}
