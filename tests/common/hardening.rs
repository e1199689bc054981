//! Hostile input checked the same way natively and in the browser, where wasm32's `usize` has
//! 32 bits and a panic kills the worker.

use headlight::capture::{Capture, full_context_bytes, values_before};
use headlight::tokenizer::Tokenizer;
use serde_json::{Value, json};

/// GPT-2's `tokenizer.json`, as every fixture checkpoint ships it.
pub const GPT2_TOKENIZER: &[u8] = include_bytes!("../fixtures/models/bf16/tokenizer.json");

/// A change to GPT-2's `tokenizer.json`.
pub type Change = fn(&mut Value);

fn precompiled(charsmap: &str) -> Value {
    json!({"type": "Precompiled", "precompiled_charsmap": charsmap})
}

/// GPT-2's tokenizer with one change each that a GPT-2 tokenizer never has, and the field its
/// refusal must name.
pub fn hostile_tokenizers() -> Vec<(&'static str, Vec<u8>)> {
    let gpt2: Value = serde_json::from_slice(GPT2_TOKENIZER).unwrap();
    let cases: [(&str, Change); 16] = [
        // pads every prompt to 10^8 tokens
        ("padding", |t| t["padding"] = json!({"strategy": {"Fixed": 100_000_000}, "direction": "Right", "pad_to_multiple_of": null, "pad_id": 50256, "pad_type_id": 0, "pad_token": "<|endoftext|>"})),
        // cuts every prompt to 2 tokens
        ("truncation", |t| t["truncation"] = json!({"direction": "Right", "max_length": 2, "strategy": "LongestFirst", "stride": 0})),
        // an empty character map, and one whose trie claims 4 GiB: both panicked
        ("normalizer", |t| t["normalizer"] = precompiled("")),
        ("normalizer", |t| t["normalizer"] = precompiled("/////wAAAAA=")),
        ("normalizer.normalizers[1]", |t| t["normalizer"] = json!({"type": "Sequence", "normalizers": [{"type": "NFC"}, precompiled("")]})),
        ("normalizer", |t| t["normalizer"] = json!({"type": "Replace", "pattern": {"String": " "}, "content": "  "})),
        ("pre_tokenizer", |t| t["pre_tokenizer"] = json!({"type": "Whitespace"})),
        ("pre_tokenizer.add_prefix_space", |t| t["pre_tokenizer"]["add_prefix_space"] = json!(true)),
        ("decoder", |t| t["decoder"] = Value::Null),
        ("post_processor", |t| t["post_processor"] = json!({"type": "TemplateProcessing", "single": [], "pair": [], "special_tokens": {}})),
        ("model.type", |t| t["model"]["type"] = json!("WordPiece")),
        ("model.dropout", |t| t["model"]["dropout"] = json!(0.5)),
        ("model.byte_fallback", |t| t["model"]["byte_fallback"] = json!(true)),
        // a merge whose piece the vocabulary lacks (the tokenizers crate panics when it is
        // longer than every entry: found by the tokenizer fuzz target)
        ("model.merges[0]", |t| t["model"]["merges"][0] = if t["model"]["merges"][0].is_string() { json!("t Ġ") } else { json!(["t", "Ġ"]) }),
        ("added_tokens[0].content", |t| t["added_tokens"][0]["content"] = json!("")),
        ("chat_template", |t| t["chat_template"] = json!("{{ messages }}")),
    ];
    cases
        .into_iter()
        .map(|(field, change)| {
            let mut tokenizer = gpt2.clone();
            change(&mut tokenizer);
            (field, serde_json::to_vec(&tokenizer).unwrap())
        })
        .collect()
}

/// Every hostile tokenizer is refused with a message that names its field; none panics.
pub fn hostile_tokenizers_are_refused_by_field() {
    for (field, json) in hostile_tokenizers() {
        let Err(error) = Tokenizer::from_bytes(&json) else { panic!("a tokenizer.json with a hostile `{field}` was accepted") };
        let error = error.to_string();
        assert!(error.starts_with(&format!("tokenizer.json: `{field}` ")), "{field}: {error}");
    }
}

/// Sizes of a crafted config counted without wrapping, on 64 and on 32 bits.
pub fn capture_sizes_are_counted_without_wrapping() {
    // n_layer 16,928, one head, n_positions 16,505,437: 4·n_layer·n·(n+1) is just past 2^64
    // (it wrapped to 145 MB), the true size 9.2 EB
    assert_eq!(values_before(16_928, 1, 16_505_437), Some(16_928 * (16_505_437 * 16_505_438 / 2)));
    assert_eq!(full_context_bytes(16_928, 1, 16_505_437), Some(9_223_372_037_000_241_536));
    assert_eq!(full_context_bytes(16_928, 2, 16_505_437), None);
    assert_eq!(values_before(u64::MAX, 1, u64::MAX), None);
    // past 32 bits: 70,000 positions, where q(q+1) alone is 4.9e9
    assert_eq!(values_before(1, 1, 70_000), Some(2_450_035_000));
    assert_eq!(full_context_bytes(12, 12, 70_000), Some(1_411_220_160_000));
    // the app keeps the compact form for those, exact for a small model
    assert!(!Capture::for_app(12, 12, 70_000).is_exact());
    assert!(!Capture::for_app(16_928, 1, 16_505_437).is_exact());
    assert!(!Capture::for_app(usize::MAX, usize::MAX, usize::MAX).is_exact());
    assert!(Capture::for_app(4, 4, 256).is_exact());
}
