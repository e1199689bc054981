//! The parity check shared by the native tests and the wasm tests: run every case of a
//! fixture (reference outputs of Hugging Face transformers, PyTorch f32, eager attention)
//! through headlight and compare.

#![allow(dead_code)]

pub mod hardening;
pub mod sizes;
#[cfg(not(target_arch = "wasm32"))]
pub mod synthetic;

use headlight::Checkpoint;
use headlight::inspect::{Request, inspect};
use headlight::kernels::Isa;
use headlight::model::generate::Decoding;
use headlight::model;
use headlight::model::gpt2::Gpt2;
use headlight::session::{Generation, Session};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Fixture {
    pub model: String,
    pub cases: Vec<Case>,
}

#[derive(Deserialize)]
pub struct Case {
    pub prompt: String,
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
    pub texts: Vec<String>,
    pub attentions: Vec<Vec<Vec<Vec<f32>>>>,
    pub last_logits: Vec<f32>,
    pub greedy_12: Vec<u32>,
}

pub const ATTENTION_TOLERANCE: f32 = 1e-4;
pub const LOGIT_TOLERANCE: f32 = 1e-3;

/// How far the kernels may be from the burn reference: the same f32 arithmetic summed in
/// another order.
pub const KERNEL_ATTENTION_TOLERANCE: f32 = 1e-5;
pub const KERNEL_LOGIT_TOLERANCE: f32 = 1e-4;

/// Largest differences seen over a fixture.
#[derive(Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub max_attention_error: f32,
    pub max_logit_error: f32,
}

fn max_error<'a>(got: impl Iterator<Item = &'a f32>, want: impl Iterator<Item = &'a f32>) -> f32 {
    got.zip(want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max)
}

/// Panics with the case and the value at fault on the first mismatch.
pub fn check(checkpoint: &Checkpoint, fixture: &Fixture) -> Report {
    let mut report = Report::default();
    for case in &fixture.cases {
        let request = Request { prompt: case.prompt.clone(), generate: 12, decoding: Decoding::Greedy, steps: false };
        let got = inspect(checkpoint, &fixture.model, &request).unwrap_or_else(|e| panic!("{:?}: {e}", case.prompt));
        let at = format!("{} / {:?}", fixture.model, case.prompt);
        assert_eq!(got.ids, case.ids, "ids of {at}");
        assert_eq!(got.tokens, case.tokens, "tokens of {at}");
        assert_eq!(got.texts, case.texts, "texts of {at}");

        let n = case.ids.len();
        assert_eq!(got.attentions.len(), case.attentions.len(), "layers of {at}");
        for (l, (got_l, want_l)) in got.attentions.iter().zip(&case.attentions).enumerate() {
            assert_eq!(got_l.len(), want_l.len(), "heads of layer {l} of {at}");
            for (h, (got_h, want_h)) in got_l.iter().zip(want_l).enumerate() {
                for q in 0..n {
                    let error = max_error(got_h[q].iter(), want_h[q].iter());
                    assert_eq!(got_h[q].len(), want_h[q].len());
                    assert!(
                        error <= ATTENTION_TOLERANCE,
                        "attention [{l}][{h}][{q}] of {at} is off by {error}: {:?} vs {:?}",
                        got_h[q],
                        want_h[q]
                    );
                    report.max_attention_error = report.max_attention_error.max(error);
                }
            }
        }

        assert_eq!(got.last_logits.len(), case.last_logits.len(), "vocabulary of {at}");
        let error = max_error(got.last_logits.iter(), case.last_logits.iter());
        assert!(error <= LOGIT_TOLERANCE, "last-position logits of {at} are off by {error}");
        report.max_logit_error = report.max_logit_error.max(error);

        assert_eq!(got.generated.as_deref(), Some(&case.greedy_12[..]), "greedy ids of {at}");
        report.cases += 1;
    }
    report
}

/// Runs every case of a fixture on the burn reference and on the kernels compiled for each
/// instruction set this machine runs, with the capture on, through the prompt and 12 greedy
/// steps: every attention row and value norm (prompt and generated positions), the logits after
/// the prompt and the greedy ids must agree. Returns, per instruction set, the largest attention
/// and logit differences.
pub fn kernels_match_the_reference(checkpoint: &Checkpoint, reference: &Gpt2, fixture: &Fixture) -> Vec<(Isa, f32, f32)> {
    let model = &checkpoint.model;
    let mut errors: Vec<(Isa, f32, f32)> = Isa::available().into_iter().map(|isa| (isa, 0.0, 0.0)).collect();
    for case in &fixture.cases {
        let want = model::reference::run(reference, &case.ids, 12, true);
        let want_capture = want.capture.as_ref().unwrap();
        for (isa, attention_error, logit_error) in &mut errors {
            let at = format!("{} / {:?} on {}", fixture.model, case.prompt, isa.name());
            let mut session = Session::start_on(*isa, model, &case.ids, true).unwrap_or_else(|e| panic!("{at}: {e}"));
            let logits = session.last_logits().to_vec();
            Generation::new(Decoding::Greedy, 12, Vec::new()).and_then(|mut g| g.run(model, &mut session, |_, _| {})).unwrap();
            assert_eq!(session.generated(), want.generated, "greedy ids of {at}");
            let error = max_error(logits.iter(), want.last_logits.iter());
            assert!(error <= KERNEL_LOGIT_TOLERANCE, "logits of {at} are off by {error}");
            *logit_error = logit_error.max(error);
            let fast = session.capture().unwrap();
            assert_eq!(fast.len(), want_capture.len());
            for l in 0..fast.n_layer() {
                for h in 0..fast.n_head() {
                    for q in 0..fast.len() {
                        let error = max_error(fast.row(l, h, q).iter(), want_capture.row(l, h, q).iter());
                        assert!(error <= KERNEL_ATTENTION_TOLERANCE, "attention [{l}][{h}][{q}] of {at} is off by {error}");
                        *attention_error = attention_error.max(error);
                    }
                    let (norms, want) = (fast.value_norms(l, h, fast.len()).unwrap(), want_capture.value_norms(l, h, fast.len()).unwrap());
                    for (a, b) in norms.iter().zip(&want) {
                        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "value norm of [{l}][{h}] of {at}: {a} vs {b}");
                    }
                }
            }
        }
    }
    errors
}

/// The kernels split their work over threads by whole outputs only, so every case of a fixture
/// gives the same bits on 1, 2 and 3 threads (uneven splits of rows, panels, queries and
/// heads): every attention row and value norm, the logits after the prompt, 12 greedy ids.
#[cfg(not(target_arch = "wasm32"))]
pub fn kernels_give_the_same_bits_on_any_number_of_threads(checkpoint: &Checkpoint, fixture: &Fixture) {
    let model = &checkpoint.model;
    for case in &fixture.cases {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                assert_eq!(headlight::kernels::threads::count(), threads);
                let mut session = Session::start_on(Isa::best(), model, &case.ids, true).unwrap();
                let logits = session.last_logits().to_vec();
                Generation::new(Decoding::Greedy, 12, Vec::new()).and_then(|mut g| g.run(model, &mut session, |_, _| {})).unwrap();
                let capture = session.capture().unwrap();
                let mut values = Vec::new();
                for l in 0..capture.n_layer() {
                    for h in 0..capture.n_head() {
                        for q in 0..capture.len() {
                            values.extend_from_slice(&capture.row(l, h, q));
                        }
                        values.extend(capture.value_norms(l, h, capture.len()).unwrap());
                    }
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                (bits(&logits), bits(&values), session.generated().to_vec())
            })
        };
        let one = run(1);
        for threads in [2, 3] {
            let other = run(threads);
            let first = |a: &[u32], b: &[u32]| a.iter().zip(b).position(|(x, y)| x != y);
            assert!(other == one, "{} / {:?}: {threads} threads give other bits than one: logits from {:?}, attention and norms from {:?}, ids {:?} vs {:?}", fixture.model, case.prompt, first(&other.0, &one.0), first(&other.1, &one.1), other.2, one.2);
        }
    }
}

/// The kernels keep the blocks' weights in the dtype the file stores them in (read here from
/// the safetensors header itself): 16-bit checkpoints stay 16-bit.
pub fn kernels_keep_the_stored_dtype(checkpoint: &Checkpoint, weights: &[u8]) {
    let n = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&weights[8..8 + n]).unwrap();
    let stored = header.iter().find(|(name, _)| name.ends_with("h.0.mlp.c_fc.weight")).map(|(_, t)| t["dtype"].as_str().unwrap().to_lowercase()).unwrap();
    assert_eq!(checkpoint.model.precision(), stored);
}
