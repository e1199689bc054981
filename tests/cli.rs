//! `headlight-cli inspect`, driven as other tools drive it: JSON on stdout, errors on stderr
//! with a non-zero exit, the context-limit notice on stderr with exit 0.

mod common;

use std::process::{Command, Output};

use serde_json::Value;

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_headlight-cli")).args(args).output().expect("the CLI runs")
}

fn json(output: &Output) -> Value {
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const BF16: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/models/bf16");

#[test]
fn inspect_on_the_bundled_model_agrees_with_transformers() {
    let fixture: common::Fixture =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mini.json")).unwrap()).unwrap();
    let case = fixture.cases.iter().find(|c| c.prompt == "The quick brown fox").unwrap();
    let out = json(&cli(&["inspect", "--prompt", "The quick brown fox", "--generate", "12", "--json"]));
    let ids: Vec<u32> = serde_json::from_value(out["ids"].clone()).unwrap();
    let tokens: Vec<String> = serde_json::from_value(out["tokens"].clone()).unwrap();
    let attentions: Vec<Vec<Vec<Vec<f32>>>> = serde_json::from_value(out["attentions"].clone()).unwrap();
    let logits: Vec<f32> = serde_json::from_value(out["last_logits"].clone()).unwrap();
    let generated: Vec<u32> = serde_json::from_value(out["generated"].clone()).unwrap();
    assert_eq!((ids, tokens), (case.ids.clone(), case.tokens.clone()));
    let flat = |a: &Vec<Vec<Vec<Vec<f32>>>>| a.iter().flatten().flatten().flatten().copied().collect::<Vec<f32>>();
    let (got, want) = (flat(&attentions), flat(&case.attentions));
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= common::ATTENTION_TOLERANCE));
    assert!(logits.iter().zip(&case.last_logits).all(|(g, w)| (g - w).abs() <= common::LOGIT_TOLERANCE));
    assert_eq!(generated, case.greedy_12);
    assert!(out.get("steps").is_none(), "steps only when asked");
}

#[test]
fn steps_carry_each_generated_tokens_attention_rows() {
    let out = json(&cli(&["inspect", "--prompt", "Attention is all", "--generate", "3", "--steps", "--json"]));
    let prompt_len = out["ids"].as_array().unwrap().len();
    let steps = out["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    for (s, step) in steps.iter().enumerate() {
        assert_eq!(step["position"].as_u64().unwrap() as usize, prompt_len + s);
        assert_eq!(step["id"], out["generated"][s]);
        let layers = step["attentions"].as_array().unwrap();
        assert_eq!(layers.len(), 6);
        for row in layers.iter().flat_map(|l| l.as_array().unwrap()) {
            let row: Vec<f32> = serde_json::from_value(row.clone()).unwrap();
            assert_eq!(row.len(), prompt_len + s + 1);
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }
}

#[test]
fn sampling_is_reproducible_for_a_seed() {
    let run = |seed: &str| {
        let out = json(&cli(&["inspect", "--prompt", "The", "--generate", "16", "--temperature", "1.2", "--top-k", "50", "--seed", seed, "--json"]));
        out["generated"].clone()
    };
    assert_eq!(run("7"), run("7"));
    assert_ne!(run("7"), run("8"));
}

#[test]
fn the_context_limit_stops_generation_with_a_notice() {
    // bf16 has 64 positions; this prompt is 57 tokens.
    let prompt = "alpha beta gamma delta epsilon ".repeat(8);
    let out = cli(&["inspect", "--model", BF16, "--prompt", &prompt, "--generate", "10", "--json"]);
    let value = json(&out);
    let prompt_len = value["ids"].as_array().unwrap().len();
    assert!(prompt_len < 64 && prompt_len > 50, "{prompt_len}");
    assert_eq!(value["generated"].as_array().unwrap().len(), 64 - prompt_len);
    assert_eq!(value["stop"], "context_full");
    assert!(stderr(&out).contains("notice") && stderr(&out).contains("64"), "{}", stderr(&out));
}

#[test]
fn bad_input_exits_non_zero_with_a_message() {
    let long = "alpha beta gamma delta epsilon ".repeat(20);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["inspect", "--model", BF16, "--prompt", &long, "--json"], "at most 64 tokens"),
        (vec!["inspect", "--prompt", "", "--json"], "empty"),
        (vec!["inspect", "--model", "/nonexistent", "--prompt", "x"], "cannot read /nonexistent/config.json"),
        (vec!["inspect", "--prompt", "x", "--generate", "2", "--temperature", "0"], "temperature"),
        (vec!["inspect", "--prompt", "x", "--generate", "2", "--top-p", "1.5"], "top-p"),
        (vec!["inspect", "--prompt", "x", "--generate", "lots"], "invalid value"),
        (vec!["inspect"], "--prompt"),
    ];
    for (args, expected) in cases {
        let out = cli(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(stderr(&out).contains(expected), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn the_readable_summary_shows_tokens_and_generation() {
    let out = cli(&["inspect", "--prompt", "Hello world", "--generate", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("2 prompt tokens") && text.contains("␣world") && text.contains("generated 2 tokens"), "{text}");
}

#[test]
fn a_model_whose_logits_are_not_numbers_is_refused_by_generation_not_a_panic() {
    // The bf16 fixture's config and tokenizer, with weights of our own: one NaN in ln_f.
    let dir = std::env::temp_dir().join(format!("headlight-cli-nan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["config.json", "tokenizer.json"] {
        std::fs::copy(format!("{BF16}/{file}"), dir.join(file)).unwrap();
    }
    let config = headlight::model::config::Gpt2Config::from_json(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
    let mut t = common::synthetic::tensors(&config, "transformer.");
    t.iter_mut().find(|(name, _, _)| name == "transformer.ln_f.weight").unwrap().2[0] = f32::NAN;
    std::fs::write(dir.join("model.safetensors"), common::synthetic::file(&t)).unwrap();
    let model = dir.to_str().unwrap();
    for args in [vec!["inspect", "--model", model, "--prompt", "Hello", "--generate", "2", "--json"], vec!["inspect", "--model", model, "--prompt", "Hello"]] {
        let out = cli(&args);
        let err = stderr(&out);
        assert!(!out.status.success() && out.stdout.is_empty(), "{args:?}: {err}");
        assert!(err.contains("warning: tensor `transformer.ln_f.weight` holds 1 NaN"), "{err}");
        assert!(err.contains("error: generation: 50257 of the 50257 logits are NaN or infinite, so no next token can be chosen"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Text sent to a terminal raw could move the cursor, clear the screen, retitle the window or
/// plant a link: the readable output shows every control character, as JSON escapes them.
#[cfg(unix)]
#[test]
fn the_readable_output_shows_control_characters_instead_of_sending_them() {
    let raw = |text: &str| text.chars().any(|c| (c.is_control() && !matches!(c, '\n' | '\t')) || c == '\u{202E}');
    // a model folder whose name clears the screen and retitles the window
    let dir = std::env::temp_dir().join(format!("headlight-\u{1b}]0;owned\u{7}\u{1b}[2J-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        let _ = std::fs::remove_file(dir.join(file));
        std::os::unix::fs::symlink(format!("{BF16}/{file}"), dir.join(file)).unwrap();
    }
    let model = dir.to_str().unwrap();
    let prompt = "\u{1b}[31mred\u{1b}[0m \u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{7} \u{9b}2J \u{202E}txt.exe\r\u{7f}";
    let (out, as_json) = (cli(&["inspect", "--model", model, "--prompt", prompt, "--generate", "8"]), cli(&["inspect", "--model", model, "--prompt", prompt, "--json"]));
    std::fs::remove_dir_all(&dir).unwrap();
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(out.status.success() && !raw(&text) && !raw(&stderr(&out)), "{text:?}");
    assert!(text.contains("␛]0;owned␇␛[2J"), "{text}");
    // the prompt's own tokens: ESC, BEL, CR and DEL as their control pictures
    assert!(["␛", "␇", "␍", "␡"].iter().all(|mark| text.contains(mark)), "{text}");
    // JSON keeps the text exact, escaped
    assert_eq!(json(&as_json)["model"]["name"], model);
    // an error naming a path shows it the same way
    let out = cli(&["inspect", "--model", "/nonexistent/\u{1b}[2J\u{9b}", "--prompt", "x"]);
    assert!(!out.status.success() && !raw(&stderr(&out)), "{:?}", stderr(&out));
    assert!(stderr(&out).contains("cannot read /nonexistent/␛[2J⟨U+009B⟩/config.json"), "{}", stderr(&out));
}
