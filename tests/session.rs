//! Tokenizer and generation behaviour on the bundled model: special tokens, byte spans,
//! split characters, context limits, the KV cache against recomputation, and stops.

mod common;

use burn::tensor::Device;
use common::synthetic;
use headlight::Checkpoint;
use headlight::kernels::gpt2::Kernels;
use headlight::model::config::Gpt2Config;
use headlight::model::loader::load_gpt2;
use headlight::model::generate::{Decoding, SamplingSettings};
use headlight::capture::Capture;
use headlight::model::f32_values;
use headlight::model::gpt2::KvCache;
use headlight::model::hooks::Patterns;
use headlight::session::{Generation, Next, PREFILL_CHUNK, Session, Stop};

fn read(f: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/public/models/mini/").to_string() + f).unwrap()
}

fn bundled() -> Checkpoint {
    Checkpoint::from_bytes(&read("config.json"), read("model.safetensors"), &read("tokenizer.json")).unwrap()
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
    let decoding = Decoding::Sample(SamplingSettings { temperature: 0.9, top_k: 40, top_p: 0.95, seed: 3 });
    let mut cached = Session::start(&c.model, &prompt, true).unwrap();
    let stop = Generation::new(decoding, 6, Vec::new()).unwrap().run(&c.model, &mut cached, |_, _| {}).unwrap();
    assert_eq!((stop, cached.generated().len()), (Stop::Count, 6));
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

    // One forward pass over the whole prompt, on the burn reference.
    let reference = load_gpt2(c.config(), read("model.safetensors"), &Device::default()).unwrap().model;
    let mut whole = Capture::new(n_layer, n_head);
    let mut patterns = Patterns::default();
    let hidden = reference.forward(&prompt, &mut KvCache::default(), &mut patterns);
    whole.append(&patterns.layers.into_iter().map(f32_values).collect::<Vec<_>>(), prompt.len());
    let [t, width] = hidden.dims();
    let whole_logits = f32_values(reference.logits(hidden.slice([t - 1..t, 0..width])));

    // The session reads it in chunks.
    let session = Session::start(&c.model, &prompt, true).unwrap();

    // The app: the worker reads a pass at a time and keeps nothing; the page records each
    // position from the rows the worker sends.
    let mut worker = Session::open(&c.model, &prompt, false).unwrap();
    let mut page = Capture::new(n_layer, n_head);
    let mut firsts = Vec::new();
    while let Some(pass) = worker.read_prompt(&c.model) {
        firsts.push(pass.first);
        for i in 0..pass.positions() {
            let (rows, norms) = pass.position(i);
            page.append_position(rows, norms);
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
    let stop = Generation::new(Decoding::Greedy, 10, Vec::new()).unwrap().run(&c.model, &mut session, |s, _| {
        steps += 1;
        assert_eq!(s.capture().unwrap().len(), s.ids().len(), "every id has its rows");
    });
    assert_eq!((stop.unwrap(), steps, session.ids().len()), (Stop::ContextFull, 3, n));
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
    let model = Kernels::load(&config, synthetic::file(&t)).unwrap().model;
    let mut session = Session::start(&model, &[1, 2], true).unwrap();
    let mut picks = Vec::new();
    let stop = Generation::new(Decoding::Greedy, 4, Vec::new()).unwrap().run(&model, &mut session, |_, id| picks.push(id)).unwrap();
    assert_eq!((stop, picks.as_slice(), session.generated()), (Stop::EndOfText, &[5][..], &[5][..]));
    assert_eq!(session.capture().unwrap().len(), 3, "the end-of-text token has its attention rows too");
}

#[test]
fn forced_ids_are_run_and_the_sampler_stream_goes_on_after_them() {
    let c = bundled();
    let prompt = c.tokenizer.encode("The quick brown fox").unwrap();
    let decoding = Decoding::Sample(SamplingSettings { temperature: 1.0, top_k: 0, top_p: 1.0, seed: 11 });
    let mut free = Session::start(&c.model, &prompt, false).unwrap();
    Generation::new(decoding, 5, Vec::new()).unwrap().run(&c.model, &mut free, |_, _| {}).unwrap();
    // forcing the first two sampled ids changes nothing; forcing others changes what follows
    let mut same = Session::start(&c.model, &prompt, false).unwrap();
    Generation::new(decoding, 5, free.generated()[..2].to_vec()).unwrap().run(&c.model, &mut same, |_, _| {}).unwrap();
    assert_eq!(same.generated(), free.generated());
    let mut forced = Session::start(&c.model, &prompt, false).unwrap();
    Generation::new(decoding, 5, vec![464, 464]).unwrap().run(&c.model, &mut forced, |_, _| {}).unwrap();
    assert_eq!(&forced.generated()[..2], [464, 464]);
    assert_eq!(forced.generated().len(), 5);
}

#[test]
fn a_cancelled_generation_stops_before_its_next_token_unless_it_has_ended() {
    let c = bundled();
    let prompt = c.tokenizer.encode("The quick brown fox").unwrap();
    let mut session = Session::start(&c.model, &prompt, false).unwrap();
    let mut generation = Generation::new(Decoding::Greedy, 2, Vec::new()).unwrap();
    assert!(matches!(generation.step(&c.model, &mut session, false).unwrap(), Next::Token(_, pass) if pass.first == prompt.len()));
    assert!(matches!(generation.step(&c.model, &mut session, true).unwrap(), Next::Stopped(Stop::Cancelled)));
    assert_eq!(session.generated().len(), 1);
    assert!(matches!(generation.step(&c.model, &mut session, false).unwrap(), Next::Token(..)));
    // the count is reached: that, not the cancel, is why it stopped
    assert!(matches!(generation.step(&c.model, &mut session, true).unwrap(), Next::Stopped(Stop::Count)));
}

#[test]
fn logits_that_are_not_numbers_stop_generation_with_a_reason() {
    // One NaN in the final LayerNorm's weight makes every logit NaN.
    let config = Gpt2Config::from_json(br#"{"vocab_size": 11, "n_positions": 8, "n_embd": 4, "n_layer": 1, "n_head": 2}"#).unwrap();
    let mut t = synthetic::tensors(&config, "transformer.");
    let ln_f = t.iter_mut().find(|(name, _, _)| name == "transformer.ln_f.weight").unwrap();
    ln_f.2[0] = f32::NAN;
    let loaded = Kernels::load(&config, synthetic::file(&t)).unwrap();
    assert!(loaded.warnings.iter().any(|w| w.contains("transformer.ln_f.weight") && w.contains("NaN")), "{:?}", loaded.warnings);
    let model = loaded.model;
    let mut session = Session::start(&model, &[1, 2], false).unwrap();
    assert!(session.last_logits().iter().all(|x| x.is_nan()));
    for decoding in [Decoding::Greedy, Decoding::Sample(SamplingSettings { temperature: 0.7, top_k: 3, top_p: 0.9, seed: 1 })] {
        let e = Generation::new(decoding, 4, Vec::new()).unwrap().run(&model, &mut session, |_, _| panic!("no token can be chosen")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "generation: 11 of the 11 logits are NaN or infinite, so no next token can be chosen: the model's weights are broken (see the warnings its loading gave)"
        );
        assert_eq!(session.ids(), [1, 2]);
    }
}
