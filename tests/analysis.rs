//! The analyses: hand-computed cases for each definition, then the same functions on the
//! bundled mini model against straightforward computations written out here.

use std::path::PathBuf;

use headlight::Checkpoint;
use headlight::analysis::aggregate::{Source, hide_first_token, max, mean, rollout, shown, value_weighted};
use headlight::analysis::pattern::Pattern;
use headlight::analysis::predict::{Prediction, probabilities, surprisal_bits, top_k};
use headlight::analysis::probe::{Answer, Question, answer};
use headlight::analysis::repeat::{Pool, repeated_random};
use headlight::analysis::roles::{HeadRoles, Role, SHOWCASE_INDUCTION, SortBy, entropy, roles_of, score, showcase, sort};
use burn::tensor::{Device, Tensor};
use headlight::capture::Capture;
use headlight::model::f32_values;
use headlight::model::gpt2::{Gpt2, KvCache};
use headlight::model::hooks::{Ablate, Hooks, Patterns};
use headlight::model::loader::load_gpt2;
use headlight::session::Session;

fn close(a: f32, b: f32, tolerance: f32) -> bool {
    (a - b).abs() <= tolerance
}

fn assert_rows(got: &Pattern, want: &[&[f32]]) {
    assert_eq!(got.len(), want.len());
    for (q, row) in want.iter().enumerate() {
        assert!(got.row(q).iter().zip(*row).all(|(g, w)| close(*g, *w, 1e-6)), "row {q}: {:?} vs {row:?}", got.row(q));
    }
}

fn pattern(rows: &[&[f32]]) -> Pattern {
    Pattern::from_rows(rows.iter().map(|r| r.to_vec()).collect())
}

#[test]
fn mean_and_max_over_heads_by_hand() {
    let a = pattern(&[&[1.0], &[0.2, 0.8], &[0.1, 0.3, 0.6]]);
    let b = pattern(&[&[1.0], &[0.6, 0.4], &[0.5, 0.5, 0.0]]);
    assert_rows(&mean(&[a.clone(), b.clone()]), &[&[1.0], &[0.4, 0.6], &[0.3, 0.4, 0.3]]);
    assert_rows(&max(&[a, b]), &[&[1.0], &[0.6, 0.8], &[0.5, 0.5, 0.6]]);
}

#[test]
fn rollout_adds_the_residual_and_multiplies_down_the_layers() {
    // Ã_0 = 0.5 A_0 + 0.5 I = [[1], [0.2, 0.8]];  Ã_1 = [[1], [0.4, 0.6]]
    let a0 = pattern(&[&[1.0], &[0.4, 0.6]]);
    let a1 = pattern(&[&[1.0], &[0.8, 0.2]]);
    let rolled = rollout(&[a0, a1]);
    assert_rows(&rolled[0], &[&[1.0], &[0.2, 0.8]]);
    // R_1 = Ã_1 R_0: row 1 = 0.4 · [1, 0] + 0.6 · [0.2, 0.8] = [0.52, 0.48]
    assert_rows(&rolled[1], &[&[1.0], &[0.52, 0.48]]);
}

#[test]
fn hiding_the_sink_renormalises_the_rest() {
    let p = pattern(&[&[1.0], &[0.9, 0.1], &[0.5, 0.25, 0.25]]);
    assert_rows(&hide_first_token(&p), &[&[0.0], &[0.0, 1.0], &[0.0, 0.5, 0.5]]);
}

#[test]
fn value_weighting_scales_by_the_norm_and_renormalises() {
    let p = pattern(&[&[1.0], &[0.5, 0.5]]);
    assert_rows(&value_weighted(&p, &[1.0, 3.0]), &[&[1.0], &[0.25, 0.75]]);
}

#[test]
fn role_scores_by_hand() {
    // 5 6 7 5 6 7: a perfect induction head attends from position q >= 3 to q - 2.
    let ids = [5, 6, 7, 5, 6, 7];
    let induction = Pattern::from_rows((0..6).map(|q| (0..=q).map(|k| if q >= 3 { (k + 2 == q) as u8 as f32 } else { (k == q) as u8 as f32 }).collect()).collect());
    assert_eq!(score(&induction, &ids, Role::Induction), Some(1.0));
    assert_eq!(score(&induction, &ids, Role::Duplicate), Some(0.0));
    // rows 1, 2 attend to themselves, rows 3..5 do not: current-token mass 2 of 5 rows
    assert_eq!(score(&induction, &ids, Role::Current), Some(0.4));
    let previous = Pattern::from_rows((0..6).map(|q| (0..=q).map(|k| (k + 1 == q || q == 0) as u8 as f32).collect()).collect());
    assert_eq!(score(&previous, &ids, Role::Previous), Some(1.0));
    assert_eq!(score(&previous, &ids, Role::First), Some(0.2), "only row 1's previous token is the first");
    assert_eq!(entropy(&previous), Some(0.0));
    // no repeated token: duplicate and induction have nothing to score
    assert_eq!(score(&previous, &[1, 2, 3, 4, 5, 6], Role::Duplicate), None);
    // a uniform head: entropy is the mean of log2(q + 1) over q = 1..
    let uniform = Pattern::from_rows((0..4).map(|q| vec![1.0 / (q + 1) as f32; q + 1]).collect());
    let want = (2f32.log2() + 3f32.log2() + 4f32.log2()) / 3.0;
    assert!(close(entropy(&uniform).unwrap(), want, 1e-5));
    let roles = HeadRoles::of(&induction, &ids, 0, 0);
    assert_eq!(roles.strongest(), Some((Role::Induction, 1.0)));
}

#[test]
fn on_a_repeated_sequence_the_induction_score_is_olssons() {
    let half = 7;
    let ids = repeated_random(&Pool::Vocabulary.candidates(50257, 50256, &[]), half, 3);
    // an arbitrary causal pattern
    let p = Pattern::from_rows(
        (0..2 * half)
            .map(|q| {
                let raw: Vec<f32> = (0..=q).map(|k| 1.0 + ((q * 7 + k * 3) % 5) as f32).collect();
                let total: f32 = raw.iter().sum();
                raw.into_iter().map(|w| w / total).collect()
            })
            .collect(),
    );
    // Olsson et al.: mean over the second half of the weight on the token after the first copy
    let olsson = (half..2 * half).map(|q| p.row(q)[q - half + 1]).sum::<f32>() / half as f32;
    assert!(close(score(&p, &ids, Role::Induction).unwrap(), olsson, 1e-6));
}

#[test]
fn role_tables_sort_by_any_score() {
    let ids = [1, 2, 1, 2];
    let heads: Vec<HeadRoles> = [0.9f32, 0.1, 0.5]
        .iter()
        .enumerate()
        .map(|(h, &w)| {
            let p = Pattern::from_rows((0..4).map(|q| (0..=q).map(|k| if q == 0 { 1.0 } else if k + 1 == q { w } else if k == q { 1.0 - w } else { 0.0 }).collect()).collect());
            HeadRoles::of(&p, &ids, 0, h)
        })
        .collect();
    let mut sorted = heads.clone();
    sort(&mut sorted, SortBy::Role(Role::Previous));
    assert_eq!(sorted.iter().map(|r| r.head).collect::<Vec<_>>(), [0, 2, 1]);
    sort(&mut sorted, SortBy::Role(Role::Current));
    assert_eq!(sorted.iter().map(|r| r.head).collect::<Vec<_>>(), [1, 2, 0]);
    sort(&mut sorted, SortBy::Position);
    assert_eq!(sorted, heads);
    assert_eq!(SortBy::from_name("induction"), Some(SortBy::Role(Role::Induction)));
}

#[test]
fn probabilities_top_k_and_surprisal_by_hand() {
    let p = probabilities(&[0.0, 3f32.ln(), f32::NEG_INFINITY]);
    assert!((p[0] - 0.25).abs() < 1e-7 && (p[1] - 0.75).abs() < 1e-7 && p[2] == 0.0);
    let top = top_k(&p, 2);
    assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), [1, 0]);
    assert!(close(top[0].1, 0.75, 1e-6) && close(top[1].1, 0.25, 1e-6));
    assert_eq!(surprisal_bits(0.25), 2.0);
    let prediction = Prediction::from_logits(&[0.0, 3f32.ln(), 0.0, 3f32.ln()], Some(2), 3, &|id| format!("t{id}"));
    // ties go to the lower id
    assert_eq!(prediction.top.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["t1", "t3", "t0"]);
    assert!(close(prediction.surprisal().unwrap(), 3.0, 1e-6), "p = 1/8");
}

#[test]
fn the_repeat_sequence_is_two_copies_of_distinct_tokens() {
    let vocabulary = Pool::Vocabulary.candidates(50257, 50256, &[]);
    assert_eq!(vocabulary.len(), 50256, "every token but <|endoftext|>");
    let ids = repeated_random(&vocabulary, 50, 11);
    assert_eq!(ids.len(), 100);
    assert_eq!(ids[..50], ids[50..]);
    let mut first: Vec<u32> = ids[..50].to_vec();
    first.sort();
    first.dedup();
    assert_eq!(first.len(), 50);
    assert!(ids.iter().all(|&id| id < 50256));
    assert!(ids.iter().any(|&id| id >= 10_000), "drawn from the whole vocabulary: {ids:?}");
    assert_eq!(repeated_random(&vocabulary, 50, 11), ids);
    assert_ne!(repeated_random(&vocabulary, 50, 12), ids);
    // the prompt's pool: its distinct tokens, <|endoftext|> and ids past the vocabulary left out
    let prompt = [464, 2068, 464, 50256, 7586, 99_999, 2068];
    assert_eq!(Pool::Prompt.candidates(50257, 50256, &prompt), [464, 2068, 7586]);
    let ids = repeated_random(&[464, 2068, 7586], 50, 1);
    assert_eq!(ids.len(), 6, "at most every candidate once per half");
    let mut half: Vec<u32> = ids[..3].to_vec();
    half.sort();
    assert_eq!(half, [464, 2068, 7586]);
    assert_eq!(ids[..3], ids[3..]);
}

// ---- on the bundled model ----

fn mini_file(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("public/models/mini").join(name)).unwrap()
}

fn mini() -> Checkpoint {
    Checkpoint::from_bytes(&mini_file("config.json"), mini_file("model.safetensors"), &mini_file("tokenizer.json")).unwrap()
}

/// The bundled model on the burn reference: the independent computation the probes, which run
/// on the kernels, are held to.
fn mini_reference(checkpoint: &Checkpoint) -> Gpt2 {
    load_gpt2(checkpoint.config(), mini_file("model.safetensors"), &Device::default()).unwrap().model
}

const PROMPT: &str = "The quick brown fox jumps over the lazy dog. The quick brown fox";

fn run(checkpoint: &Checkpoint, text: &str) -> (Vec<u32>, Session) {
    let ids = checkpoint.tokenizer.encode(text).unwrap();
    let session = Session::start(&checkpoint.model, &ids, true).unwrap();
    (ids, session)
}

type Dense = Vec<Vec<f64>>;

fn matmul(a: &Dense, b: &Dense) -> Dense {
    let n = a.len();
    (0..n).map(|i| (0..n).map(|j| (0..n).map(|k| a[i][k] * b[k][j]).sum()).collect()).collect()
}

#[test]
fn rollout_on_the_model_matches_dense_matrix_products() {
    let checkpoint = mini();
    let (ids, session) = run(&checkpoint, PROMPT);
    let capture = session.capture().unwrap();
    let n = ids.len();
    // straight from the definition, with dense f64 matrices from the capture's JSON nesting
    let attentions = capture.nested(n);
    let mut rolled: Option<Dense> = None;
    for (layer, heads) in attentions.iter().enumerate() {
        let mut a: Dense = (0..n).map(|i| (0..n).map(|j| heads.iter().map(|h| h[i][j] as f64).sum::<f64>() / heads.len() as f64).collect()).collect();
        for (i, row) in a.iter_mut().enumerate() {
            row[i] += 1.0;
            let total: f64 = row.iter().sum();
            row.iter_mut().for_each(|w| *w /= total);
        }
        let r = match rolled {
            None => a,
            Some(r) => matmul(&a, &r),
        };
        let got = shown(capture, Source::Rollout, false, layer, 0, n).unwrap();
        for (i, want) in r.iter().enumerate() {
            for (j, &want) in want.iter().enumerate() {
                assert!((got.get(i, j) as f64 - want).abs() < 1e-5, "layer {layer} ({i}, {j}): {} vs {want}", got.get(i, j));
            }
            assert!((got.row(i).iter().sum::<f32>() - 1.0).abs() < 1e-5, "rollout rows stay distributions");
        }
        rolled = Some(r);
    }
}

#[test]
fn every_source_gives_a_pattern_of_the_run() {
    let checkpoint = mini();
    let (ids, session) = run(&checkpoint, PROMPT);
    let capture = session.capture().unwrap();
    let n = ids.len();
    for source in Source::ALL {
        for hide in [false, true] {
            let p = shown(capture, source, hide, 2, 1, n).expect("the session records value norms");
            assert_eq!(p.len(), n);
            if source != Source::LayerMax {
                for q in 1..n {
                    assert!((p.row(q).iter().sum::<f32>() - 1.0).abs() < 1e-4, "{source:?} hide={hide} row {q}");
                }
            }
            if hide {
                assert!((1..n).all(|q| p.row(q)[0] == 0.0));
            }
        }
    }
    assert_eq!(shown(capture, Source::Head, false, 2, 1, n).unwrap(), Pattern::of_head(capture, 2, 1, n));
    // value norms are recorded for every position, and a capture without them says so
    assert_eq!(capture.value_norms(0, 0, n).unwrap().len(), n);
    let mut bare = Capture::new(1, 1);
    bare.append(&[vec![1.0]], 1);
    assert_eq!(shown(&bare, Source::ValueWeighted, false, 0, 0, 1), None);
}

fn inside(checkpoint: &Checkpoint, ids: &[u32], layer: usize, head: usize, query: usize) -> headlight::analysis::probe::HeadTrace {
    match answer(checkpoint, ids, &Question::InsideHead { layer, head, query }).unwrap() {
        Answer::InsideHead(trace) => trace,
        other => panic!("{other:?}"),
    }
}

#[test]
fn inside_one_head_shows_the_numbers_the_model_computed() {
    let checkpoint = mini();
    let (ids, session) = run(&checkpoint, PROMPT);
    let capture = session.capture().unwrap();
    let (layer, head, query) = (1, 2, 5);
    let t = inside(&checkpoint, &ids, layer, head, query);
    let d = checkpoint.config().head_dim();
    assert_eq!((t.q.len(), t.keys.len(), t.output.len()), (d, ids.len(), d));
    assert_eq!(t.scale, 1.0 / (d as f32).sqrt());
    // the weights are the run's own attention row; later keys are masked to 0
    let row = capture.row(layer, head, query);
    assert!(t.weights[..=query].iter().zip(row.iter()).all(|(a, b)| close(*a, *b, 1e-6)));
    assert!(t.weights[query + 1..].iter().all(|&w| w == 0.0));
    // each step is the arithmetic it claims
    for j in 0..ids.len() {
        let dot: f32 = t.q.iter().zip(&t.keys[j]).map(|(a, b)| a * b).sum();
        assert!(close(t.dots[j], dot, 1e-3 * dot.abs().max(1.0)), "q·k_{j}");
        assert!(close(t.scores[j], t.dots[j] * t.scale, 1e-6));
    }
    let max = t.scores[..=query].iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = t.scores[..=query].iter().map(|s| (s - max).exp()).sum();
    for j in 0..=query {
        assert!(close(t.weights[j], (t.scores[j] - max).exp() / total, 1e-5));
    }
    for i in 0..d {
        let sum: f32 = (0..=query).map(|j| t.weights[j] * t.values[j][i]).sum();
        assert!(close(t.output[i], sum, 1e-4), "output[{i}]");
    }
    // the value norms the run recorded are the norms of these value vectors
    let norms = capture.value_norms(layer, head, ids.len()).unwrap();
    for (j, v) in t.values.iter().enumerate() {
        assert!(close(norms[j], v.iter().map(|x| x * x).sum::<f32>().sqrt(), 1e-4));
    }
}

fn lens(checkpoint: &Checkpoint, ids: &[u32], position: usize) -> Vec<Vec<headlight::analysis::predict::Candidate>> {
    match answer(checkpoint, ids, &Question::Lens { position }).unwrap() {
        Answer::Lens(rows) => rows,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_lens_after_the_last_layer_is_the_models_own_prediction() {
    let checkpoint = mini();
    let (ids, session) = run(&checkpoint, PROMPT);
    let rows = lens(&checkpoint, &ids, ids.len() - 1);
    assert_eq!(rows.len(), checkpoint.config().n_layer + 1);
    let own = top_k(&probabilities(session.last_logits()), 5);
    let last: Vec<(u32, f32)> = rows.last().unwrap().iter().map(|c| (c.id, c.p)).collect();
    assert_eq!(last.iter().map(|c| c.0).collect::<Vec<_>>(), own.iter().map(|c| c.0).collect::<Vec<_>>());
    assert!(last.iter().zip(&own).all(|(a, b)| close(a.1, b.1, 1e-5)));
}

#[test]
fn the_lens_at_a_middle_layer_matches_a_direct_computation() {
    let checkpoint = mini();
    let (ids, _) = run(&checkpoint, PROMPT);
    let position = 4;
    let rows = lens(&checkpoint, &ids, position);
    // the residual stream after block 1 at that position on the burn reference, read out by
    // hand in f64: LayerNorm with ln_f's weights, then the dot product with every row of wte
    struct After(usize, Option<Tensor<2>>);
    impl Hooks for After {
        fn resid_post(&mut self, layer: usize, x: Tensor<2>) -> Tensor<2> {
            if layer == self.0 {
                self.1 = Some(x.clone());
            }
            x
        }
    }
    let reference = mini_reference(&checkpoint);
    let mut after = After(1, None);
    reference.forward(&ids, &mut KvCache::default(), &mut after);
    let c = checkpoint.config().n_embd;
    let x: Vec<f64> = f32_values(after.1.unwrap())[position * c..(position + 1) * c].iter().map(|&v| v as f64).collect();
    let mean = x.iter().sum::<f64>() / c as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / c as f64;
    let ln_f = &reference.ln_f;
    let (g, b) = (f32_values(ln_f.weight.val()), f32_values(ln_f.bias.val()));
    let h: Vec<f64> = (0..c).map(|i| (x[i] - mean) / (var + ln_f.eps as f64).sqrt() * g[i] as f64 + b[i] as f64).collect();
    let wte = f32_values(reference.embeddings.wte.val());
    let logits: Vec<f64> = wte.chunks(c).map(|row| row.iter().zip(&h).map(|(w, h)| *w as f64 * h).sum()).collect();
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = logits.iter().map(|l| (l - max).exp()).sum();
    let mut want: Vec<(usize, f64)> = logits.iter().map(|l| (l - max).exp() / total).enumerate().collect();
    want.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (got, want) in rows[2].iter().zip(&want) {
        assert_eq!(got.id as usize, want.0);
        assert!((got.p as f64 - want.1).abs() < 1e-4, "{} vs {}", got.p, want.1);
    }
}

#[test]
fn predictions_and_surprisal_at_every_position() {
    let checkpoint = mini();
    let (ids, session) = run(&checkpoint, PROMPT);
    let Answer::Predictions(predictions) = answer(&checkpoint, &ids, &Question::Predictions).unwrap() else { panic!() };
    assert_eq!(predictions.len(), ids.len());
    assert!(predictions.last().unwrap().next.is_none());
    let own = top_k(&probabilities(session.last_logits()), 5);
    assert_eq!(predictions.last().unwrap().top.iter().map(|c| c.id).collect::<Vec<_>>(), own.iter().map(|c| c.0).collect::<Vec<_>>());
    // at position i, the surprisal of token i + 1 from a run of the prefix alone
    for i in [0, 3, 9] {
        let prefix = Session::start(&checkpoint.model, &ids[..=i], false).unwrap();
        let p = probabilities(prefix.last_logits())[ids[i + 1] as usize];
        let got = &predictions[i];
        assert_eq!(got.next.as_ref().unwrap().id, ids[i + 1]);
        assert!(close(got.surprisal().unwrap(), surprisal_bits(p), 1e-3), "position {i}");
    }
}

#[test]
fn ablating_a_head_changes_only_what_comes_after_it() {
    let checkpoint = mini();
    let (ids, session) = run(&checkpoint, PROMPT);
    let intact = session.capture().unwrap();
    let ablated = |heads: Vec<(usize, usize)>| match answer(&checkpoint, &ids, &Question::Ablate { heads }).unwrap() {
        Answer::Ablated { capture, predictions } => (capture, predictions),
        other => panic!("{other:?}"),
    };
    let (same, _) = ablated(Vec::new());
    let tolerance = 1e-5;
    let n = ids.len();
    let max_diff = |a: &Capture, layer: usize| (0..a.n_head()).flat_map(|h| (0..n).flat_map(move |q| (0..=q).map(move |k| (h, q, k)))).map(|(h, q, k)| (a.row(layer, h, q)[k] - intact.row(layer, h, q)[k]).abs()).fold(0.0f32, f32::max);
    assert!((0..checkpoint.config().n_layer).all(|l| max_diff(&same, l) < tolerance), "nothing switched off, nothing changed");
    let (off, predictions) = ablated(vec![(1, 0), (1, 3)]);
    assert!(max_diff(&off, 0) < tolerance && max_diff(&off, 1) < tolerance, "layers up to the ablated one attend as before");
    assert!(max_diff(&off, 2) > 1e-4, "later layers see a different residual stream");
    let own = probabilities(session.last_logits());
    let last = predictions.last().unwrap();
    assert!((last.top[0].p - own[last.top[0].id as usize] as f32).abs() > 1e-4, "the prediction moves");
    // the burn reference with the same heads switched off attends as the ablated run does
    let mut hooks = (Ablate { heads: vec![(1, 0), (1, 3)] }, Patterns::default());
    mini_reference(&checkpoint).forward(&ids, &mut KvCache::default(), &mut hooks);
    let mut want = Capture::new(checkpoint.config().n_layer, checkpoint.config().n_head);
    want.append(&hooks.1.layers.into_iter().map(f32_values).collect::<Vec<_>>(), n);
    let error = (0..want.n_layer()).flat_map(|l| (0..want.n_head()).flat_map(move |h| (0..n).map(move |q| (l, h, q)))).map(|(l, h, q)| off.row(l, h, q).iter().zip(want.row(l, h, q).iter()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max)).fold(0.0f32, f32::max);
    assert!(error < tolerance, "the ablated run is off the reference's by {error}");
    // a head that does not exist is refused by name
    let error = answer(&checkpoint, &ids, &Question::Ablate { heads: vec![(1, 9)] }).unwrap_err();
    assert_eq!(error.to_string(), "analysis: head 9 does not exist: there are 8");
    let error = answer(&checkpoint, &[], &Question::Predictions).unwrap_err();
    assert!(error.to_string().contains("no tokens"));
}

/// The head leading `role` in `roles`, and its score.
fn leader(roles: &[HeadRoles], role: Role) -> (usize, usize, f32) {
    let mut ranked = roles.to_vec();
    sort(&mut ranked, SortBy::Role(role));
    let r = &ranked[0];
    (r.layer, r.head, r.score(role).unwrap())
}

fn print_roles(title: &str, roles: &[HeadRoles]) {
    println!("{title}");
    for r in roles {
        let scores: Vec<String> = Role::ALL.iter().map(|&role| format!("{}={}", role.name(), r.score(role).map_or("-".into(), |s| format!("{s:.3}")))).collect();
        println!("  L{} H{}: entropy={:.2} {} strongest={:?}", r.layer, r.head, r.entropy.unwrap_or(f32::NAN), scores.join(" "), r.strongest());
    }
}

#[test]
fn mini_has_previous_token_and_induction_heads_on_natural_text_and_on_the_repeat_test() {
    let checkpoint = mini();
    let prompt = headlight::hub::DEFAULT_PROMPT;
    let (ids, session) = run(&checkpoint, prompt);
    let natural = roles_of(session.capture().unwrap(), &ids);
    assert_eq!(natural.len(), 6 * 8);
    print_roles(&format!("{prompt:?}"), &natural);
    let repeat = |pool: Pool| {
        let Answer::Repeat { tokens, roles } = answer(&checkpoint, &ids, &Question::RepeatTest { half: 50, seed: 1, pool }).unwrap() else { panic!() };
        print_roles(&format!("repeat test, {} tokens from the {}, seed 1", tokens.len(), pool.name()), &roles);
        // no token repeats within a half, so duplicate- and induction-scores exist for every head
        assert!(roles.iter().all(|r| r.score(Role::Induction).is_some() && r.score(Role::Duplicate).is_some()));
        (tokens, roles)
    };
    let (vocabulary_tokens, vocabulary) = repeat(Pool::Vocabulary);
    let (prompt_tokens, from_prompt) = repeat(Pool::Prompt);
    assert_eq!(vocabulary_tokens.len(), 100);
    let distinct = Pool::Prompt.candidates(50257, 50256, &ids).len();
    assert_eq!(prompt_tokens.len(), 2 * distinct, "every distinct prompt token once per half");
    for r in natural.iter().chain(&vocabulary).chain(&from_prompt) {
        assert!(r.scores.iter().flatten().all(|s| (0.0..=1.0 + 1e-6).contains(s)));
    }
    // what a head that spreads its attention evenly over what it sees scores on the same ids
    let uniform = |ids: &[u32], role: Role| score(&Pattern::from_rows((0..ids.len()).map(|q| vec![1.0 / (q + 1) as f32; q + 1]).collect()), ids, role).unwrap();
    let repeat_ids = |tokens: &[headlight::tokenizer::Token]| tokens.iter().map(|t| t.id).collect::<Vec<u32>>();
    for (what, roles, ids) in
        [("default prompt", &natural, ids.clone()), ("repeat test, vocabulary", &vocabulary, repeat_ids(&vocabulary_tokens)), ("repeat test, prompt tokens", &from_prompt, repeat_ids(&prompt_tokens))]
    {
        let (previous, induction) = (leader(roles, Role::Previous), leader(roles, Role::Induction));
        let baseline = (uniform(&ids, Role::Previous), uniform(&ids, Role::Induction));
        println!(
            "{what}: previous-token L{} H{} {:.3}, induction L{} H{} {:.3} (an evenly spread head: {:.3}, {:.3})",
            previous.0, previous.1, previous.2, induction.0, induction.1, induction.2, baseline.0, baseline.1
        );
        // mini was trained to have them: a previous-token head, and induction heads in a later
        // layer (an induction head reads what a previous-token head wrote), each far above an
        // evenly spread head
        assert!(previous.2 > 4.0 * baseline.0, "{what}: previous-token {previous:?}");
        assert!(induction.2 > 4.0 * baseline.1, "{what}: induction {induction:?}");
        assert!(induction.0 > previous.0, "{what}: induction after previous-token");
    }
    // the first minute opens the strongest induction head of the default prompt
    let (head, role) = showcase(&natural).unwrap();
    assert_eq!(role, Role::Induction);
    let (layer, h, score) = leader(&natural, Role::Induction);
    assert_eq!((head.layer, head.head), (layer, h));
    assert!(score >= SHOWCASE_INDUCTION);
}

#[test]
fn the_showcase_falls_back_to_the_previous_token_head() {
    // a prompt with no repeated token has no induction score: the previous-token head is shown
    let ids = [1, 2, 3, 4];
    let heads: Vec<HeadRoles> = [0.2f32, 0.9]
        .iter()
        .enumerate()
        .map(|(h, &w)| {
            HeadRoles::of(
                &Pattern::from_rows(
                    (0..4)
                        .map(|q| {
                            (0..=q)
                                .map(|k| {
                                    if q == 0 {
                                        1.0
                                    } else if k + 1 == q {
                                        w
                                    } else if k == q {
                                        1.0 - w
                                    } else {
                                        0.0
                                    }
                                })
                                .collect()
                        })
                        .collect(),
                ),
                &ids,
                0,
                h,
            )
        })
        .collect();
    let (head, role) = showcase(&heads).unwrap();
    assert_eq!((head.head, role), (1, Role::Previous));
    // a weak induction score does not win over it either
    let ids = [1, 2, 1];
    let weak = HeadRoles::of(&pattern(&[&[1.0], &[0.5, 0.5], &[0.4, 0.2, 0.4]]), &ids, 2, 0);
    assert!(weak.score(Role::Induction).unwrap() < SHOWCASE_INDUCTION);
    assert_eq!(showcase(&[weak]).map(|(_, r)| r), Some(Role::Previous));
    assert_eq!(showcase(&[]), None);
}
