//! Replays the fuzz corpora through the fuzz targets' own checks (`fuzz/src/checks.rs`): the
//! committed seeds (`fuzz/seeds/<target>/`) and every input a fuzzer found to fail
//! (`fuzz/regressions/<target>/`), so each stays fixed under plain `cargo test`.

#[path = "../fuzz/src/checks.rs"]
mod checks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Runs `check` on every file of the target's seeds and regressions; returns how many ran.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut failures = Vec::new();
    let mut ran = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for path in entries.map(|e| e.expect("a readable corpus entry").path()) {
            let bytes = std::fs::read(&path).expect("a readable corpus file");
            if catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err() {
                failures.push(path.display().to_string());
            }
            ran += 1;
        }
    }
    assert!(failures.is_empty(), "{target}: these inputs fail their check again: {failures:?}");
    ran
}

#[test]
fn permalink_corpus_replays() {
    assert!(replay("permalink", checks::permalink) >= 8);
}

#[test]
fn config_corpus_replays() {
    assert!(replay("config", checks::config) >= 7);
}

#[test]
fn safetensors_corpus_replays() {
    assert!(replay("safetensors", checks::safetensors) >= 6);
}

#[test]
fn model_source_corpus_replays() {
    assert!(replay("model_source", checks::model_source) >= 12);
}

#[test]
fn tokenizer_corpus_replays() {
    assert!(replay("tokenizer", checks::tokenizer) >= 3);
}

#[test]
fn checkpoint_corpus_replays() {
    assert!(replay("checkpoint", checks::checkpoint) >= 2);
}

#[test]
fn budget_corpus_replays() {
    assert!(replay("budget", checks::budget) >= 2);
}

#[test]
fn transfer_corpus_replays() {
    assert!(replay("transfer", checks::transfer) >= 3);
}

#[test]
fn export_corpus_replays() {
    assert!(replay("export", checks::export) >= 2);
}
