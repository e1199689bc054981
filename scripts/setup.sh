#!/usr/bin/env bash
# What headlight's build and tests need, each installed only when missing. Sourced by
# scripts/serve.sh and scripts/test.sh, which call the `need_*` functions. Needs rustup; uses
# apt-get (through sudo when not root) for Chromium and its driver.
set -euo pipefail

HEADLIGHT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION=0.21.14
# Must equal the `wasm-bindgen` crate pinned in Cargo.toml (and `[tools]` in Trunk.toml).
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' "$HEADLIGHT_ROOT/Cargo.toml" | head -n1)"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

need_trunk() {
  if ! command -v trunk >/dev/null || ! trunk --version | grep -q " $TRUNK_VERSION"; then
    step "installing trunk $TRUNK_VERSION (12 to 17 minutes on 2 cores)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
}

need_wasm_bindgen() {
  if ! command -v wasm-bindgen >/dev/null || ! wasm-bindgen --version | grep -q " $WASM_BINDGEN_VERSION"; then
    step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 6 minutes)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked --force
  fi
}

need_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "installing Chromium and ChromeDriver"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}
