//! `headlight-cli`: the library on the command line. `inspect` runs a prompt (and optionally
//! generates) and prints the capture as JSON (`--json`) or as a readable summary.
//! A native program: on wasm32 (where `cargo test --target wasm32-unknown-unknown` builds every
//! binary) it is an empty stub.

#![forbid(unsafe_code)]

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
