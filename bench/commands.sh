#!/usr/bin/env bash
# Times the README's two commands as a new contributor meets them: a fresh clone of HEAD (or of
# REV), an empty CARGO_HOME (no registry cache, no Trunk, no wasm-bindgen-cli) and an empty npm
# cache, with only rustup's toolchains from this machine; then both again at once (warm). Each
# command is timed to its end: scripts/serve.sh until the page it serves answers, scripts/test.sh
# until it exits. What rustup already holds (the wasm32 target) and what apt installed
# (Chromium) are not removed: the figures say so. Uses WORK (default /tmp/headlight-commands),
# which it empties first. Prints the figures; the logs stay in WORK.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${WORK:-/tmp/headlight-commands}"
port="${PORT:-8765}"
rm -rf "$work"
mkdir -p "$work/bin"
# rustup's proxies alone: the tools this machine installed with cargo stay out of PATH
for tool in cargo rustc rustdoc rustup cargo-clippy clippy-driver; do
  ln -s "$(command -v rustup | xargs dirname)/$tool" "$work/bin/$tool"
done
export CARGO_HOME="$work/cargo" npm_config_cache="$work/npm"
export PATH="$CARGO_HOME/bin:$work/bin:$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/\.cargo/bin$' | paste -sd:)"
git clone -q "$root" "$work/headlight"
cd "$work/headlight"
git checkout -q "${REV:-HEAD}"

# scripts/serve.sh, from its start until the URL it prints answers.
serve() {
  local log="$work/serve-$1.log" start=$SECONDS
  setsid env PORT="$port" scripts/serve.sh >"$log" 2>&1 &
  local pid=$!
  until curl -sf "http://127.0.0.1:$port/" >/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "serve.sh stopped: see $log" >&2; exit 1; fi
    sleep 2
  done
  echo "scripts/serve.sh $1: $((SECONDS - start)) s to the page served"
  kill -- -"$pid"
  wait "$pid" 2>/dev/null || true
}

# scripts/test.sh, from its start to its end.
tests() {
  local start=$SECONDS
  scripts/test.sh >"$work/test-$1.log" 2>&1 || { echo "scripts/test.sh failed: see $work/test-$1.log" >&2; exit 1; }
  echo "scripts/test.sh $1: $((SECONDS - start)) s, all tests passed"
}

serve cold
tests "after serve"
serve warm
tests warm
