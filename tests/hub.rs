//! Model sources on real checkpoint files: the header check a download makes from its first
//! bytes, the memory estimate, and the tokenizer built from `vocab.json` + `merges.txt` (as older
//! Hub repositories ship it) against transformers' token ids.

use std::fs;

use headlight::Checkpoint;
use headlight::hub::budget::{Estimate, WASM32_MEMORY};
use headlight::model::config::Gpt2Config;
use headlight::safetensors::{Header, SafeTensors};
use headlight::tokenizer::Tokenizer;
use serde::Deserialize;

const MODELS: [&str; 5] = ["public/models/mini", "tests/fixtures/models/tiny", "tests/fixtures/models/bf16", "tests/fixtures/models/odd-heads-f32", "tests/fixtures/models/openai-layout"];

fn read(dir: &str, file: &str) -> Vec<u8> {
    fs::read(format!("{}/{dir}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// `vocab.json` and `merges.txt` as the slow GPT-2 tokenizer's files, written from
/// `tokenizer.json`'s BPE model.
fn slow_tokenizer_files(tokenizer_json: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let json: serde_json::Value = serde_json::from_slice(tokenizer_json).unwrap();
    let vocab = serde_json::to_vec(&json["model"]["vocab"]).unwrap();
    let mut merges = String::from("#version: 0.2\n");
    for pair in json["model"]["merges"].as_array().unwrap() {
        let line = match pair {
            serde_json::Value::String(line) => line.clone(),
            pair => format!("{} {}", pair[0].as_str().unwrap(), pair[1].as_str().unwrap()),
        };
        merges.push_str(&line);
        merges.push('\n');
    }
    (vocab, merges.into_bytes())
}

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    prompt: String,
    ids: Vec<u32>,
    texts: Vec<String>,
}

#[test]
fn the_header_of_every_checkpoint_checks_out_from_its_first_bytes() {
    for dir in MODELS {
        let file = read(dir, "model.safetensors");
        let len = file.len() as u64;
        let prefix = Header::prefix_len(&file[..8], len).unwrap();
        assert!(prefix < 64 * 1024, "{dir}: header of {prefix} bytes");
        let header = Header::parse(&file[..prefix], len).unwrap();
        // the same tensors, shapes and dtypes as the full reader sees
        let full = SafeTensors::parse(&file).unwrap();
        let names: Vec<&str> = header.tensors().map(|(n, _)| n).collect();
        assert_eq!(names, full.names(), "{dir}");
        for (name, info) in header.tensors() {
            let view = full.get(name).unwrap();
            assert_eq!((info.dtype, &info.shape[..], info.data.end - info.data.start), (view.dtype(), view.shape(), view.data().len() as u64), "{dir}: {name}");
        }
        // and the estimate counts exactly the model's parameters
        let config = Gpt2Config::from_json(&read(dir, "config.json")).unwrap();
        let (c, v, p, i) = (config.n_embd as u64, config.vocab_size as u64, config.n_positions as u64, config.n_inner as u64);
        let per_block = 4 * c + (c * 3 * c + 3 * c) + (c * c + c) + (c * i + i) + (i * c + c);
        let lm_head = if config.tie_word_embeddings { 0 } else { v * c };
        let params = v * c + p * c + config.n_layer as u64 * per_block + 2 * c + lm_head;
        let estimate = Estimate::of_checkpoint(&config, &header).unwrap();
        assert_eq!(estimate.weights, 4 * params, "{dir}");
        assert_eq!(estimate.file, len);
        assert!(estimate.check(WASM32_MEMORY).is_ok());
    }
}

#[test]
fn a_cut_or_garbled_header_is_refused_before_the_rest_arrives() {
    let file = read("public/models/mini", "model.safetensors");
    let len = file.len() as u64;
    let prefix = Header::prefix_len(&file, len).unwrap();
    // the file is shorter than its header says
    let e = Header::parse(&file[..prefix], prefix as u64 - 10).unwrap_err();
    assert!(e.to_string().contains("truncated or not a safetensors file"), "{e}");
    // garbage where the length should be
    let e = Header::prefix_len(b"<!DOCTYPE html>", len).unwrap_err();
    assert!(e.to_string().contains("over the 104857600-byte limit"), "{e}");
    // the JSON damaged
    let mut broken = file[..prefix].to_vec();
    broken[9] = b'#';
    let e = Header::parse(&broken, len).unwrap_err();
    assert!(e.to_string().contains("not a JSON object"), "{e}");
    // data offsets past a file cut short
    let e = Header::parse(&file[..prefix], len / 2).unwrap_err();
    assert!(e.to_string().contains("outside the"), "{e}");
}

#[test]
fn vocab_and_merges_tokenize_as_transformers_does() {
    let json = read("public/models/mini", "tokenizer.json");
    let (vocab, merges) = slow_tokenizer_files(&json);
    let slow = Tokenizer::from_vocab_and_merges(&vocab, &merges).unwrap();
    let fixture: Fixture = serde_json::from_slice(&read("tests/fixtures", "mini.json")).unwrap();
    let mut prompts: Vec<String> = fixture.cases.iter().map(|c| c.prompt.clone()).collect();
    for case in &fixture.cases {
        let ids = slow.encode(&case.prompt).unwrap();
        assert_eq!(ids, case.ids, "{:?}", case.prompt);
        let texts: Vec<String> = slow.tokens(&ids).into_iter().map(|t| t.text).collect();
        assert_eq!(texts, case.texts, "{:?}", case.prompt);
        assert_eq!(slow.decode(&ids), case.prompt);
    }
    // <|endoftext|> typed in the prompt is the special id, as with tokenizer.json
    prompts.push("end<|endoftext|>start".into());
    let fast = Tokenizer::from_bytes(&json).unwrap();
    for prompt in &prompts {
        assert_eq!(slow.encode(prompt).unwrap(), fast.encode(prompt).unwrap(), "{prompt:?}");
    }
    assert!(slow.encode("a<|endoftext|>").unwrap().ends_with(&[50256]));
    assert_eq!(slow.vocab_size(), fast.vocab_size());
    // and a checkpoint runs with it
    let dir = "tests/fixtures/models/odd-heads-f32";
    let checkpoint = Checkpoint::with_tokenizer(&read(dir, "config.json"), read(dir, "model.safetensors"), slow).unwrap();
    assert_eq!(checkpoint.config().n_head, 6);
}

#[test]
fn broken_vocab_or_merges_are_named() {
    let e = Tokenizer::from_vocab_and_merges(b"[1, 2]", b"").err().unwrap();
    assert!(e.to_string().contains("vocab.json is not a JSON map"), "{e}");
    let e = Tokenizer::from_vocab_and_merges(br#"{"a": 0, "b": 1}"#, b"#version: 0.2\na b c\n").err().unwrap();
    assert!(e.to_string().contains("merges.txt line 2"), "{e}");
    let e = Tokenizer::from_vocab_and_merges(br#"{"a": 0, "b": 1, "ax": 2}"#, b"a x\n").err().unwrap();
    assert!(e.to_string().contains("do not make a BPE model"), "{e}");
    // a merge making a piece longer than every entry: the tokenizers crate panicked on it
    let e = Tokenizer::from_vocab_and_merges(br#"{"a": 0, "b": 1}"#, b"a b\n").err().unwrap();
    assert!(e.to_string().contains("merges.txt's merge number 1 makes a piece that is not in vocab.json"), "{e}");
}

#[test]
fn the_bundled_files_urls_carry_their_contents_version() {
    use headlight::hub::{BUNDLED_DIR, BUNDLED_VERSION, Role, bundled_url, sha256_hex};
    let dir = format!("public/{BUNDLED_DIR}");
    let files: Vec<u8> = [Role::Config, Role::Tokenizer, Role::Weights].iter().flat_map(|r| read(&dir, r.file_name())).collect();
    // a new bundled model needs a new version, or browsers keep serving the old files
    assert_eq!(BUNDLED_VERSION, &sha256_hex(&files)[..16], "update hub::BUNDLED_VERSION");
    assert_eq!(bundled_url(Role::Weights), format!("{BUNDLED_DIR}/model.safetensors?v={BUNDLED_VERSION}"));
}
