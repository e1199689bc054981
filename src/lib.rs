//! headlight: GPT-2 written from its parts in burn, with every attention pattern captured, for
//! a browser app (wasm) and a native CLI that share this library.
//!
//! Data flows one way: text -> [`tokenizer`] -> ids -> [`model`] -> [`capture`] -> views.

// `unsafe` is denied everywhere but in two places: the kernels' vector loads and stores
// (`kernels::simd`), and entering the kernels compiled for AVX2 and FMA after the CPU was found
// to have them (`kernels::on_isa!`).
#![deny(unsafe_code)]

pub mod analysis;
pub mod capture;
pub mod checkpoint;
pub mod error;
pub mod hub;
pub mod inspect;
pub mod kernels;
pub mod model;
pub mod permalink;
pub mod rng;
pub mod safetensors;
pub mod session;
pub mod synthetic;
pub mod tokenizer;
#[cfg(all(target_arch = "wasm32", feature = "app"))]
pub mod ui;
pub mod view;
pub mod views;
#[cfg(target_arch = "wasm32")]
pub mod worker;

pub use checkpoint::Checkpoint;
pub use error::{Error, Result};
