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

# The nightly pinned for the threaded worker only (scripts/threads/rust-toolchain.toml), with
# the std sources its build rebuilds and the wasm32 target: about 15 s and 120 MB.
need_threads_toolchain() {
  local pin="$HEADLIGHT_ROOT/scripts/threads/rust-toolchain.toml" channel
  channel="$(sed -n 's/^channel = "\(.*\)"/\1/p' "$pin")"
  if ! rustup run "$channel" rustc --version >/dev/null 2>&1 \
    || ! rustup component list --toolchain "$channel" --installed | grep -q '^rust-src' \
    || ! rustup target list --toolchain "$channel" --installed | grep -qx wasm32-unknown-unknown; then
    step "installing $channel for the threaded worker"
    rustup toolchain install "$channel" --profile minimal --component rust-src --target wasm32-unknown-unknown
  fi
}

# Trunk and wasm-bindgen-cli only orchestrate and rewrite the build's output: they are built
# without LTO, in many codegen units, at opt-level 1 (most of the install time went into
# optimising code that runs for a second per build).
quick_install() {
  CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=true cargo install "$@"
}

need_trunk() {
  if ! command -v trunk >/dev/null || ! trunk --version | grep -q " $TRUNK_VERSION"; then
    step "installing trunk $TRUNK_VERSION"
    # No default features: no TLS stack (Trunk.toml keeps it offline, and it serves plain http)
    # and no update check.
    quick_install trunk --version "$TRUNK_VERSION" --locked --no-default-features
  fi
}

need_wasm_bindgen() {
  if ! command -v wasm-bindgen >/dev/null || ! wasm-bindgen --version | grep -q " $WASM_BINDGEN_VERSION"; then
    step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    # Not --locked: its lock file pins webpki-roots 1.0.11, which the crates.io index does not offer.
    # No default features: no TLS stack (its test runner talks to ChromeDriver on localhost).
    quick_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force --no-default-features
  fi
}

need_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "installing Chromium and ChromeDriver"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
}
