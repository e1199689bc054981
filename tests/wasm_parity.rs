//! The parity check run in the shipped target: wasm32 in headless Chromium
//! (`cargo test --target wasm32-unknown-unknown`), on the bundled F16 model and the BF16 one,
//! with the kernels (simd128) held to the burn reference on the same fixtures;
//! and hostile input, where `usize` has 32 bits and a panic kills the worker.

#![cfg(target_arch = "wasm32")]

mod common;

use burn::tensor::Device;
use headlight::Checkpoint;
use headlight::model::loader::load_gpt2;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn parity(files: [&[u8]; 3], fixture: &str) {
    let [config, weights, tokenizer] = files;
    let checkpoint = Checkpoint::from_bytes(config, weights.to_vec(), tokenizer).unwrap();
    let fixture: common::Fixture = serde_json::from_str(fixture).unwrap();
    let report = common::check(&checkpoint, &fixture);
    assert_eq!(report.cases, fixture.cases.len());
    web_sys::console::log_1(&format!("wasm parity, {}: {report:?}", fixture.model).into());
    common::kernels_keep_the_stored_dtype(&checkpoint, weights);
    let reference = load_gpt2(checkpoint.config(), weights.to_vec(), &Device::default()).unwrap().model;
    for (isa, attention, logits) in common::kernels_match_the_reference(&checkpoint, &reference, &fixture) {
        web_sys::console::log_1(&format!("wasm, {}: kernels ({}) against burn: attention within {attention:e}, logits within {logits:e}", fixture.model, isa.name()).into());
    }
}

#[wasm_bindgen_test]
fn simd128_widens_every_finite_16_bit_value_exactly() {
    use half::{bf16, f16};
    use headlight::kernels::simd::{Simd128, widening_mismatch};
    assert_eq!(widening_mismatch::<Simd128, f16>(|b| f16::from_bits(b).to_f32()), None, "f16");
    assert_eq!(widening_mismatch::<Simd128, bf16>(|b| bf16::from_bits(b).to_f32()), None, "bf16");
}

#[wasm_bindgen_test]
fn mini_matches_transformers_in_the_browser() {
    let files: [&[u8]; 3] = [
        include_bytes!("../public/models/mini/config.json"),
        include_bytes!("../public/models/mini/model.safetensors"),
        include_bytes!("../public/models/mini/tokenizer.json"),
    ];
    parity(files, include_str!("fixtures/mini.json"));
}

#[wasm_bindgen_test]
fn bf16_matches_transformers_in_the_browser() {
    let files: [&[u8]; 3] = [
        include_bytes!("fixtures/models/bf16/config.json"),
        include_bytes!("fixtures/models/bf16/model.safetensors"),
        include_bytes!("fixtures/models/bf16/tokenizer.json"),
    ];
    parity(files, include_str!("fixtures/bf16.json"));
}

#[wasm_bindgen_test]
fn hostile_tokenizers_are_refused_by_field_in_the_browser() {
    common::hardening::hostile_tokenizers_are_refused_by_field();
}

#[wasm_bindgen_test]
fn capture_sizes_are_counted_without_wrapping_in_32_bits() {
    common::hardening::capture_sizes_are_counted_without_wrapping();
}

// The size arithmetic's properties where `usize` has 32 bits (`tests/common/sizes.rs`; natively
// in `tests/sizes.rs`, with more cases).
#[wasm_bindgen_test]
fn what_passes_the_memory_estimate_fits_in_32_bits() {
    let (accepted, passed) = common::sizes::budget_keeps_what_passes_within_32_bits(1, 1500);
    assert!(accepted > 100 && passed > 10, "{accepted} configs accepted, {passed} passed");
    common::sizes::configs_at_the_caps_are_refused_by_name();
    common::sizes::uncapped_configs_never_pass_wrapped(2, 1000);
}

#[wasm_bindgen_test]
fn capture_layout_and_download_counts_hold_in_32_bits() {
    common::sizes::capture_layout_holds_in_32_bits(3, 5000);
    assert!(common::sizes::transfers_stay_within_their_bounds(4, 5000) > 500);
}
