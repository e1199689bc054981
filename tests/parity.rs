//! Parity with Hugging Face transformers on every checkpoint in tests/fixtures: the bundled model,
//! both key layouts, F32, F16 and BF16 weights, odd head counts; and the kernels, in every
//! variant this machine runs, against the burn reference on the same fixtures, and against
//! themselves on other numbers of threads.

mod common;

use std::path::PathBuf;

use burn::tensor::Device;
use headlight::Checkpoint;
use headlight::model::loader::load_gpt2;

fn model_dir(model: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if model == "mini" { root.join("public/models/mini") } else { root.join("tests/fixtures/models").join(model) }
}

fn parity(model: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fixture: common::Fixture =
        serde_json::from_slice(&std::fs::read(root.join(format!("tests/fixtures/{model}.json"))).unwrap()).unwrap();
    assert_eq!(fixture.model, model);
    let dir = model_dir(model);
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let checkpoint = Checkpoint::from_bytes(&read("config.json"), read("model.safetensors"), &read("tokenizer.json")).unwrap();
    assert!(checkpoint.warnings.is_empty(), "{:?}", checkpoint.warnings);
    let report = common::check(&checkpoint, &fixture);
    assert!(report.cases >= 7, "{model}: only {} cases", report.cases);
    println!("{model}: {report:?}");
    common::kernels_keep_the_stored_dtype(&checkpoint, &read("model.safetensors"));
    let reference = load_gpt2(checkpoint.config(), read("model.safetensors"), &Device::default()).unwrap().model;
    for (isa, attention, logits) in common::kernels_match_the_reference(&checkpoint, &reference, &fixture) {
        println!("{model}: kernels ({}) against the burn reference: attention within {attention:e}, logits within {logits:e}", isa.name());
    }
    common::kernels_give_the_same_bits_on_any_number_of_threads(&checkpoint, &fixture);
}

#[test]
fn mini_f16_the_bundled_model() {
    parity("mini");
}

#[test]
fn tiny_f16() {
    parity("tiny");
}

#[test]
fn odd_heads_f32() {
    parity("odd-heads-f32");
}

#[test]
fn openai_layout_without_prefix() {
    parity("openai-layout");
}

#[test]
fn bf16() {
    parity("bf16");
}
