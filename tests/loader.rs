//! The loader on checkpoints built here, broken in every way a download or a hand-made file can
//! be: each failure names what is wrong, nothing panics.

use burn::tensor::Device;
use headlight::Error;
use headlight::kernels::Isa;
use headlight::kernels::gpt2::Kernels;
use headlight::model::config::Gpt2Config;
use headlight::model::loader::load_gpt2;

mod common;
use common::synthetic::{file, tensors};

const CONFIG: &str = r#"{"vocab_size": 11, "n_positions": 8, "n_embd": 4, "n_layer": 2, "n_head": 2, "eos_token_id": 5}"#;

fn config(json: &str) -> Gpt2Config {
    Gpt2Config::from_json(json.as_bytes()).unwrap()
}

/// The error both loaders give: the kernels' (the app's) and the burn reference's.
fn load_error(config: &Gpt2Config, bytes: &[u8]) -> Error {
    let Err(e) = Kernels::load(config, bytes.to_vec()) else { panic!("loading should have failed") };
    match load_gpt2(config, bytes.to_vec(), &Device::default()) {
        Ok(_) => panic!("the reference loaded what the kernels refused: {e}"),
        Err(reference) => assert_eq!(reference.to_string(), e.to_string()),
    }
    e
}

#[test]
fn a_complete_checkpoint_loads_in_both_layouts() {
    let c = config(CONFIG);
    for prefix in ["transformer.", ""] {
        let loaded = load_gpt2(&c, file(&tensors(&c, prefix)), &Device::default()).unwrap();
        assert_eq!(loaded.model.h.len(), 2);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }
}

#[test]
fn a_missing_tensor_is_named() {
    let c = config(CONFIG);
    let mut t = tensors(&c, "transformer.");
    t.retain(|(name, _, _)| name != "transformer.h.1.mlp.c_fc.bias");
    let e = load_error(&c, &file(&t));
    assert_eq!(e, Error::tensor("transformer.h.1.mlp.c_fc.bias", "is missing"));
    assert!(e.to_string().contains("h.1.mlp.c_fc.bias"));
}

#[test]
fn a_wrong_shape_is_named_with_both_shapes() {
    let c = config(CONFIG);
    let mut t = tensors(&c, "");
    let wpe = t.iter_mut().find(|(name, _, _)| name == "wpe.weight").unwrap();
    wpe.1 = vec![4, 8]; // 32 values either way
    let message = load_error(&c, &file(&t)).to_string();
    assert!(message.contains("`wpe.weight`") && message.contains("[4, 8]") && message.contains("[8, 4]"), "{message}");
}

#[test]
fn a_config_that_disagrees_with_the_weights_is_refused() {
    let small = config(CONFIG);
    let wider = config(r#"{"vocab_size": 11, "n_positions": 8, "n_embd": 8, "n_layer": 2, "n_head": 2}"#);
    let message = load_error(&wider, &file(&tensors(&small, "transformer."))).to_string();
    assert!(message.contains("transformer.wte.weight"), "{message}");
    let deeper = config(r#"{"vocab_size": 11, "n_positions": 8, "n_embd": 4, "n_layer": 3, "n_head": 2}"#);
    let message = load_error(&deeper, &file(&tensors(&small, "transformer."))).to_string();
    assert!(message.contains("h.2."), "{message}");
}

#[test]
fn an_untied_head_needs_lm_head_weight_and_uses_it() {
    let tied = config(CONFIG);
    let untied = config(&CONFIG.replace("}", r#", "tie_word_embeddings": false}"#));
    let mut t = tensors(&untied, "transformer.");
    let message = load_error(&untied, &file(&t)).to_string();
    assert!(message.contains("`lm_head.weight` is missing"), "{message}");
    t.push(("lm_head.weight".into(), vec![11, 4], (0..44).map(|j| (j as f32 * 0.3).cos()).collect()));
    let bytes = file(&t);
    let logits = |c: &Gpt2Config| {
        let model = load_gpt2(c, bytes.clone(), &Device::default()).unwrap().model;
        let mut cache = Default::default();
        let hidden = model.forward(&[1, 2, 3], &mut cache, &mut ());
        headlight::model::f32_values(model.logits(hidden))
    };
    assert_ne!(logits(&tied), logits(&untied));
    // the kernels read the same head
    let on_kernels = |c: &Gpt2Config| {
        let model = Kernels::load(c, bytes.clone()).unwrap().model;
        let out = model.forward(Isa::best(), &[1, 2, 3], &mut Default::default());
        model.logits(Isa::best(), &out.hidden)
    };
    for c in [&tied, &untied] {
        assert!(on_kernels(c).iter().zip(logits(c)).all(|(a, b)| (a - b).abs() < 1e-5), "{:?}", c.tie_word_embeddings);
    }
}

#[test]
fn unsupported_dtypes_are_named() {
    // A header declaring an I64 tensor where a weight should be.
    let c = config(CONFIG);
    let mut bytes = file(&tensors(&c, "transformer."));
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[8..8 + header_len].to_vec()).unwrap();
    // ln_f.bias (the entry before ln_f.weight) holds 4 f32 = 16 bytes = 2 i64
    let entry_end = r#""shape":[4]},"transformer.ln_f.weight""#;
    let patched = header.replace(&format!(r#""dtype":"F32",{entry_end}"#), &format!(r#""dtype":"I64",{}"#, entry_end.replace("[4]", "[2]")));
    assert_ne!(patched, header, "the test's patch must apply");
    bytes.splice(8..8 + header_len, patched.into_bytes());
    let message = load_error(&c, &bytes).to_string();
    assert!(message.contains("transformer.ln_f.bias") && message.contains("I64"), "{message}");
}

#[test]
fn broken_containers_are_refused_with_a_reason() {
    let c = config(CONFIG);
    let good = file(&tensors(&c, "transformer."));
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut huge = good.clone();
    huge[..8].copy_from_slice(&(8u64 << 30).to_le_bytes());
    let mut past_end = good.clone();
    past_end[..8].copy_from_slice(&((good.len() as u64) - 4).to_le_bytes());
    let mut garbage_json = good.clone();
    garbage_json[8] = b'!';
    let truncated = &good[..good.len() - 10];
    let cases: Vec<(&str, &[u8], &str)> = vec![
        ("empty file", &[], "too short"),
        ("header of gigabytes", &huge, "limit"),
        ("header past the end", &past_end, "truncated"),
        ("invalid JSON", &garbage_json, "not a JSON object"),
        ("truncated data", truncated, "outside"),
        ("pickle bytes", b"\x80\x02}q\x00(X\x05\x00\x00\x00", "limit"),
    ];
    for (what, bytes, expected) in cases {
        let message = load_error(&c, bytes).to_string();
        assert!(message.starts_with("model.safetensors") && message.contains(expected), "{what}: {message}");
    }
    assert!(header_len > 0);
}

#[test]
fn overlapping_and_mis_sized_tensors_are_refused() {
    let c = config(CONFIG);
    let good = file(&tensors(&c, "transformer."));
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(good[8..8 + header_len].to_vec()).unwrap();
    let patch = |from: &str, to: &str| {
        let patched = header.replacen(from, to, 1);
        assert_ne!(patched, header, "the test's patch must apply: {from}");
        let mut bytes = good.clone();
        bytes.splice(8..8 + header_len, patched.into_bytes());
        load_error(&c, &bytes).to_string()
    };
    // wpe.weight directly follows wte.weight (44 values = 176 bytes); point it back into wte.
    let overlap = patch(r#""data_offsets":[176,304]"#, r#""data_offsets":[160,288]"#);
    assert!(overlap.contains("overlap"), "{overlap}");
    let short = patch(r#""data_offsets":[176,304]"#, r#""data_offsets":[176,300]"#);
    assert!(short.contains("transformer.wpe.weight") && short.contains("needs 128"), "{short}");
}

#[test]
fn non_finite_and_unused_weights_warn() {
    let c = config(CONFIG);
    let mut t = tensors(&c, "transformer.");
    t[3].2[0] = f32::NAN;
    t.push(("score.weight".into(), vec![2, 4], vec![0.0; 8]));
    t.push(("transformer.h.0.attn.bias".into(), vec![1, 1, 8, 8], vec![1.0; 64]));
    let loaded = load_gpt2(&c, file(&t), &Device::default()).unwrap();
    let warnings = loaded.warnings.join("\n");
    assert!(warnings.contains(&t[3].0) && warnings.contains("NaN"), "{warnings}");
    assert!(warnings.contains("score.weight") && !warnings.contains("attn.bias"), "{warnings}");
}

/// Every way a downloaded or hand-made checkpoint can be broken, with the whole message the
/// page and the CLI show for it.
#[test]
fn each_broken_checkpoint_reads_its_exact_message() {
    let c = config(CONFIG);
    let t = tensors(&c, "transformer.");
    let good = file(&t);
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let data_len = good.len() - 8 - header_len;
    let header = String::from_utf8(good[8..8 + header_len].to_vec()).unwrap();
    let with_header = |patched: String| {
        assert_ne!(patched, header, "the test's patch must apply");
        let mut bytes = good.clone();
        bytes.splice(8..8 + header_len, patched.into_bytes());
        bytes
    };
    let with_length = |length: u64| {
        let mut bytes = good.clone();
        bytes[..8].copy_from_slice(&length.to_le_bytes());
        bytes
    };
    let mut garbage_json = good.clone();
    garbage_json[8] = b'!';
    let mut non_finite = t.clone();
    non_finite[2].2[1] = f32::NAN;
    non_finite[2].2[3] = f32::INFINITY;
    let wider = config(r#"{"vocab_size": 11, "n_positions": 8, "n_embd": 8, "n_layer": 2, "n_head": 2}"#);
    let cases: Vec<(&str, Vec<u8>, &Gpt2Config, String)> = vec![
        ("empty", vec![], &c, "model.safetensors: file is 0 bytes, too short to hold the 8-byte header length".into()),
        (
            "a header of gigabytes",
            with_length(8 << 30),
            &c,
            "model.safetensors: header claims 8589934592 bytes, over the 104857600-byte limit: not a safetensors file, or corrupt".into(),
        ),
        (
            "a header length past the file",
            with_length(good.len() as u64 - 4),
            &c,
            format!("model.safetensors: header claims {} bytes but the file has only {} after the length: truncated or not a safetensors file", good.len() - 4, good.len() - 8),
        ),
        ("invalid JSON", garbage_json, &c, "model.safetensors: header is not a JSON object (expected value at line 1 column 1)".into()),
        (
            "truncated data",
            good[..good.len() - 10].to_vec(),
            &c,
            // the last tensor written (ln_f.bias, 4 f32) is the one cut short
            format!("model.safetensors: tensor `transformer.ln_f.bias` has data_offsets [{}, {data_len}] outside the {}-byte data section (truncated file?)", data_len - 16, data_len - 10),
        ),
        (
            "an unknown dtype",
            with_header(header.replacen(r#""dtype":"F32""#, r#""dtype":"X32""#, 1)), // same length: the header stays in place
            &c,
            // the header's keys are in sorted order: h.0.attn.c_attn.bias comes first
            "model.safetensors: tensor `transformer.h.0.attn.c_attn.bias` has unknown dtype `X32`".into(),
        ),
        (
            "offsets reaching into the next tensor",
            with_header(header.replacen(r#""data_offsets":[176,304]"#, r#""data_offsets":[160,288]"#, 1)),
            &c,
            "model.safetensors: tensors `transformer.wte.weight` and `transformer.wpe.weight` overlap in the data section".into(),
        ),
        (
            "offsets too short for the shape",
            with_header(header.replacen(r#""data_offsets":[176,304]"#, r#""data_offsets":[176,300]"#, 1)),
            &c,
            "model.safetensors: tensor `transformer.wpe.weight` holds 124 bytes but F32 [8, 4] needs 128".into(),
        ),
        (
            "a config wider than the weights",
            good.clone(),
            &wider,
            "model.safetensors: tensor `transformer.wte.weight` has shape [11, 4]; the config needs [11, 8]".into(),
        ),
    ];
    for (what, bytes, config, expected) in cases {
        assert_eq!(load_error(config, &bytes).to_string(), expected, "{what}");
    }
    let loaded = load_gpt2(&c, file(&non_finite), &Device::default()).unwrap();
    assert_eq!(loaded.warnings, [format!("tensor `{}` holds 2 NaN or infinite values; outputs will be meaningless", non_finite[2].0)]);
}

/// What the `safetensors` crate refuses beyond headlight's own header checks, as the Hugging
/// Face reader does: data the tensors do not cover exactly.
#[test]
fn bytes_no_tensor_owns_are_refused_by_the_crate() {
    let c = config(CONFIG);
    let mut trailing = file(&tensors(&c, "transformer."));
    trailing.extend_from_slice(&[0; 4]);
    assert_eq!(load_error(&c, &trailing).to_string(), "model.safetensors: cannot be read: incomplete metadata, file not fully covered");
    // a gap between two tensors: ln_f.bias, written last, moved 4 bytes on into the trailing ones
    let good = file(&tensors(&c, "transformer."));
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let data_len = (good.len() - 8 - header_len) as u64;
    let header = String::from_utf8(good[8..8 + header_len].to_vec()).unwrap();
    let from = format!("\"data_offsets\":[{},{data_len}]", data_len - 16);
    let to = format!("\"data_offsets\":[{},{}]", data_len - 12, data_len + 4);
    let patched = header.replacen(&from, &to, 1);
    assert_ne!(patched, header, "the test's patch must apply");
    let mut gap = good.clone();
    gap.splice(8..8 + header_len, patched.into_bytes());
    gap.extend_from_slice(&[0; 4]);
    assert_eq!(load_error(&c, &gap).to_string(), "model.safetensors: cannot be read: invalid offset for tensor `transformer.ln_f.bias`");
}
