//! The parity check run in the shipped target: wasm32 in headless Chromium
//! (`cargo test --target wasm32-unknown-unknown`), on the bundled model and its fixture.

#![cfg(target_arch = "wasm32")]

mod common;

use headlight::Checkpoint;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn tiny_matches_transformers_in_the_browser() {
    let checkpoint = Checkpoint::from_bytes(
        include_bytes!("../public/models/tiny/config.json"),
        include_bytes!("../public/models/tiny/model.safetensors"),
        include_bytes!("../public/models/tiny/tokenizer.json"),
    )
    .unwrap();
    let fixture: common::Fixture = serde_json::from_str(include_str!("fixtures/tiny.json")).unwrap();
    let report = common::check(&checkpoint, &fixture);
    assert_eq!(report.cases, fixture.cases.len());
    web_sys::console::log_1(&format!("wasm parity, tiny: {report:?}").into());
}

#[wasm_bindgen_test]
fn bf16_matches_transformers_in_the_browser() {
    let checkpoint = Checkpoint::from_bytes(
        include_bytes!("fixtures/models/bf16/config.json"),
        include_bytes!("fixtures/models/bf16/model.safetensors"),
        include_bytes!("fixtures/models/bf16/tokenizer.json"),
    )
    .unwrap();
    let fixture: common::Fixture = serde_json::from_str(include_str!("fixtures/bf16.json")).unwrap();
    assert_eq!(common::check(&checkpoint, &fixture).cases, fixture.cases.len());
}
