//! Tokenizer and generation behaviour on the bundled model: special tokens, byte spans,
//! split characters, context limits, the KV cache against recomputation, and stops.

mod common;

use burn::tensor::Device;
use common::synthetic;
use headlight::Checkpoint;
use headlight::model::config::Gpt2Config;
use headlight::model::loader::load_gpt2;
use headlight::model::generate::{Decoding, SamplingSettings, Sampler};
use headlight::capture::{Capture, pass_norms, pass_rows};
use headlight::model::f32_values;
use headlight::model::gpt2::KvCache;
use headlight::session::{PREFILL_CHUNK, Session, Stop};

fn bundled() -> Checkpoint {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public/models/mini/");
    let read = |f: &str| std::fs::read(format!("{dir}{f}")).unwrap();
    Checkpoint::from_bytes(&read("config.json"), &read("model.safetensors"), &read("tokenizer.json")).unwrap()
}

#[test]
fn endoftext_typed_in_a_prompt_is_the_special_token() {
    let c = bundled();
    let ids = c.tokenizer.encode("Hello<|endoftext|>World").unwrap();
    assert_eq!(ids, [15496, 50256, 10603]);
    assert_eq!(c.tokenizer.tokens(&ids)[1].piece, "<|endoftext|>");
}

#[test]
fn spans_cover_the_prompt_even_through_split_characters() {
    let c = bundled();
    let prompt = "Café 🚀 東京\n\tend";
    let tokens = c.tokenizer.tokens(&c.tokenizer.encode(prompt).unwrap());
    let mut end = 0;
    for t in &tokens {
        assert_eq!(t.span.start, end, "{tokens:?}");
        end = t.span.end;
    }
    assert_eq!(end, prompt.len());
    // the rocket is 4 bytes split over tokens: their spans join to exactly its bytes
    let rocket = prompt.find('🚀').unwrap();
    let pieces: Vec<_> = tokens.iter().filter(|t| t.span.end > rocket && t.span.start < rocket + 4).collect();
    assert!(pieces.len() >= 2, "{pieces:?}");
    assert!(pieces.iter().any(|t| t.label.contains('⟨')), "{pieces:?}");
    assert!(tokens.iter().any(|t| t.label == "↵"), "{tokens:?}");
}

#[test]
fn empty_and_overlong_prompts_are_refused_with_the_limit() {
    let c = bundled();
    let e = Session::start(&c.model, &[], true).err().unwrap();
    assert!(e.to_string().contains("empty"), "{e}");
    let long = vec![464; c.config().n_positions + 1];
    let e = Session::start(&c.model, &long, true).err().unwrap();
    assert!(e.to_string().contains(&c.config().n_positions.to_string()), "{e}");
    let e = Session::start(&c.model, &[c.config().vocab_size as u32], true).err().unwrap();
    assert!(e.to_string().contains("vocabulary"), "{e}");
}

#[test]
fn cached_generation_equals_recomputing_the_whole_sequence() {
    let c = bundled();
    let prompt = c.tokenizer.encode("The quick brown fox").unwrap();
    let mut sampler = Sampler::new(Decoding::Sample(SamplingSettings { temperature: 0.9, top_k: 40, top_p: 0.95, seed: 3 })).unwrap();
    let mut cached = Session::start(&c.model, &prompt, true).unwrap();
    cached.generate(&c.model, &mut sampler, 6, |_, _| {});
    let full = Session::start(&c.model, cached.ids(), true).unwrap();
    let (a, b) = (cached.capture().unwrap(), full.capture().unwrap());
    assert_eq!(a.len(), b.len());
    for layer in 0..a.n_layer() {
        for head in 0..a.n_head() {
            for q in 0..a.len() {
                for (x, y) in a.row(layer, head, q).iter().zip(b.row(layer, head, q).iter()) {
                    assert!((x - y).abs() < 1e-5, "({layer}, {head}, {q}): {x} vs {y}");
                }
            }
        }
    }
    for (x, y) in cached.last_logits().iter().zip(full.last_logits()) {
        assert!((x - y).abs() < 1e-3);
    }
}

#[test]
fn a_prompt_read_in_chunks_equals_one_pass_over_it_and_the_page_records_the_same_rows() {
    let c = bundled();
    let (n_layer, n_head) = (c.config().n_layer, c.config().n_head);
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(30);
    let prompt = c.tokenizer.encode(&text).unwrap()[..PREFILL_CHUNK + 72].to_vec();

    // One forward pass over the whole prompt.
    let mut whole = Capture::new(n_layer, n_head);
    let out = c.model.forward(&prompt, &mut KvCache::default());
    whole.append(&out.attentions.into_iter().map(f32_values).collect::<Vec<_>>(), prompt.len());
    let [t, width] = out.hidden.dims();
    let whole_logits = f32_values(c.model.logits(out.hidden.slice([t - 1..t, 0..width])));

    // The session reads it in chunks.
    let session = Session::start(&c.model, &prompt, true).unwrap();

    // The app: the worker reads a pass at a time and keeps nothing; the page records each
    // position from the rows the worker sends.
    let mut worker = Session::open(&c.model, &prompt, false).unwrap();
    let mut page = Capture::new(n_layer, n_head);
    let mut firsts = Vec::new();
    while let Some(pass) = worker.read_prompt(&c.model) {
        firsts.push(pass.first);
        let tq = pass.positions();
        let (weights, norms) = pass.values();
        for i in 0..tq {
            let rows: Vec<f32> = pass_rows(&weights, n_head, tq, i).flatten().copied().collect();
            page.append_position(&rows, &pass_norms(&norms, n_head, tq, i).collect::<Vec<_>>());
        }
    }
    assert_eq!(firsts, [0, PREFILL_CHUNK]);
    assert!(worker.capture().is_none());

    let captured = session.capture().unwrap();
    assert_eq!((captured.len(), page.len(), captured.bytes()), (prompt.len(), prompt.len(), page.bytes()));
    let n = prompt.len();
    for (layer, head, q) in (0..n_layer).flat_map(|l| (0..n_head).flat_map(move |h| (0..n).map(move |q| (l, h, q)))) {
        assert_eq!(captured.row(layer, head, q), page.row(layer, head, q), "({layer}, {head}, {q})");
        for (x, y) in captured.row(layer, head, q).iter().zip(whole.row(layer, head, q).iter()) {
            assert!((x - y).abs() < 1e-5, "({layer}, {head}, {q}): {x} in chunks, {y} in one pass");
        }
    }
    assert_eq!(captured.value_norms(1, 2, n), page.value_norms(1, 2, n));
    for logits in [session.last_logits(), worker.last_logits()] {
        assert_eq!(logits.len(), whole_logits.len());
        for (x, y) in logits.iter().zip(&whole_logits) {
            assert!((x - y).abs() < 1e-3, "{x} in chunks, {y} in one pass");
        }
    }
}

#[test]
fn generation_stops_at_the_context_limit() {
    let c = bundled();
    let n = c.config().n_positions;
    let prompt = vec![464; n - 3];
    let mut session = Session::start(&c.model, &prompt, true).unwrap();
    let mut steps = 0;
    let stop = session.generate(&c.model, &mut Sampler::new(Decoding::Greedy).unwrap(), 10, |s, _| {
        steps += 1;
        assert_eq!(s.capture().unwrap().len(), s.ids().len(), "every id has its rows");
    });
    assert_eq!((stop, steps, session.ids().len()), (Stop::ContextFull, 3, n));
    assert!(session.push(&c.model, 464).is_err());
}

#[test]
fn generation_stops_at_endoftext_and_keeps_it() {
    // A model whose every prediction is token 5, its end of text: ln_f maps every position to
    // [1, 0, 0, 0] and only row 5 of wte points that way.
    let config = Gpt2Config::from_json(br#"{"vocab_size": 11, "n_positions": 8, "n_embd": 4, "n_layer": 1, "n_head": 2, "eos_token_id": 5}"#).unwrap();
    let mut t = synthetic::tensors(&config, "transformer.");
    for (name, _, values) in &mut t {
        match name.as_str() {
            "transformer.ln_f.weight" => values.fill(0.0),
            "transformer.ln_f.bias" => values.copy_from_slice(&[1.0, 0.0, 0.0, 0.0]),
            "transformer.wte.weight" => values[5 * 4] = 10.0,
            _ => {}
        }
    }
    let model = load_gpt2(&config, &synthetic::file(&t), &Device::default()).unwrap().model;
    let mut session = Session::start(&model, &[1, 2], true).unwrap();
    let mut picks = Vec::new();
    let stop = session.generate(&model, &mut Sampler::new(Decoding::Greedy).unwrap(), 4, |_, id| picks.push(id));
    assert_eq!((stop, picks.as_slice(), session.generated()), (Stop::EndOfText, &[5][..], &[5][..]));
    assert_eq!(session.capture().unwrap().len(), 3, "the end-of-text token has its attention rows too");
}
