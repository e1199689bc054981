//! Questions only a new forward pass can answer: what the model predicts at every position,
//! the logit lens, every number inside one head, the run with heads switched off, and the
//! repeated random sequence. Each runs the model on the ids it is given, from scratch, through
//! [`Gpt2::forward`] with the hooks it needs: the numbers are the ones the model computed, read
//! from its own tensors at its hook points.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::analysis::lens::{Residuals, logit_lens};
use crate::analysis::predict::{Candidate, Prediction};
use crate::analysis::repeat::{Pool, repeated_random};
use crate::analysis::roles::{HeadRoles, roles_of};
use crate::capture::Capture;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::model::f32_values;
use crate::model::gpt2::{Gpt2, KvCache};
use crate::model::hooks::{Ablate, Hooks, Patterns, ValueNorms};
use crate::tokenizer::Token;

/// Next-token candidates listed per position.
pub const TOP_K: usize = 5;
/// Positions whose logits are computed at once: a `[ROWS, vocab_size]` block at a time.
const LOGIT_ROWS: usize = 32;
/// Longest half of the repeat test.
pub const MAX_REPEAT_HALF: usize = 512;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Question {
    /// The top next tokens at every position, and the probability of each token that came.
    Predictions,
    /// The logit lens at one position.
    Lens { position: usize },
    /// Every number one head computed for one query.
    InsideHead { layer: usize, head: usize, query: usize },
    /// The run again with these `(layer, head)`s switched off.
    Ablate { heads: Vec<(usize, usize)> },
    /// `half` random tokens from `pool` repeated twice (the ids given are the prompt the
    /// [`Pool::Prompt`] draws from): each head's roles.
    RepeatTest { half: usize, seed: u64, pool: Pool },
}

/// Every number one head computed for one query, read from the model's tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadTrace {
    pub layer: usize,
    pub head: usize,
    pub query: usize,
    /// The factor the dot products are multiplied by, `1/sqrt(head_dim)` in GPT-2.
    pub scale: f32,
    /// The query vector `q` `[D]`.
    pub q: Vec<f32>,
    /// Key and value vectors of every position `[T][D]`, later ones included (they are masked).
    pub keys: Vec<Vec<f32>>,
    pub values: Vec<Vec<f32>>,
    /// `q · k_j` for every position `j`.
    pub dots: Vec<f32>,
    /// `q · k_j · scale`.
    pub scores: Vec<f32>,
    /// softmax over the scores with keys after the query masked out: 0 for those.
    pub weights: Vec<f32>,
    /// `Σ_j weights_j v_j` `[D]`: the head's output for this query, before the output projection.
    pub output: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Answer {
    /// One per position of the ids.
    Predictions(Vec<Prediction>),
    /// `n_layer + 1` readouts: after the embeddings, then after each block.
    Lens(Vec<Vec<Candidate>>),
    InsideHead(HeadTrace),
    /// The switched-off run's attention and predictions. In the app the capture stays with the
    /// workers (the inference worker hands it to the views worker), so it is not serialised.
    Ablated {
        #[serde(skip)]
        capture: Capture,
        predictions: Vec<Prediction>,
    },
    /// The random tokens and the roles of every head on them.
    Repeat { tokens: Vec<Token>, roles: Vec<HeadRoles> },
}

fn check(what: &str, index: usize, count: usize) -> Result<()> {
    if index < count { Ok(()) } else { Err(Error::Analysis(format!("{what} {index} does not exist: there are {count}"))) }
}

fn check_ids(model: &Gpt2, ids: &[u32]) -> Result<()> {
    let c = &model.config;
    if ids.is_empty() {
        return Err(Error::Analysis("there are no tokens to analyse".into()));
    }
    if ids.len() > c.n_positions {
        return Err(Error::Analysis(format!("{} tokens are more than the context of {}", ids.len(), c.n_positions)));
    }
    match ids.iter().find(|&&id| id as usize >= c.vocab_size) {
        Some(id) => Err(Error::Analysis(format!("token id {id} is outside the vocabulary of {}", c.vocab_size))),
        None => Ok(()),
    }
}

/// The predictions at every position of one forward pass's final hidden states `[T, C]`.
fn predictions(checkpoint: &Checkpoint, hidden: Tensor<2>, ids: &[u32]) -> Vec<Prediction> {
    let [t, c] = hidden.dims();
    let label = |id: u32| checkpoint.tokenizer.tokens(&[id]).remove(0).label;
    let vocab = checkpoint.model.config.vocab_size;
    (0..t)
        .step_by(LOGIT_ROWS)
        .flat_map(|start| {
            let end = (start + LOGIT_ROWS).min(t);
            let logits = f32_values(checkpoint.model.logits(hidden.clone().slice([start..end, 0..c]))); // [rows, V]
            logits.chunks(vocab).enumerate().map(|(i, row)| Prediction::from_logits(row, ids.get(start + i + 1).copied(), TOP_K, &label)).collect::<Vec<_>>()
        })
        .collect()
}

/// A capture of one forward pass over `t` positions from the patterns (and norms, if kept)
/// its hooks kept.
fn capture_of(model: &Gpt2, patterns: Patterns, norms: Option<ValueNorms>, t: usize) -> Capture {
    let mut capture = Capture::new(model.config.n_layer, model.config.n_head);
    capture.append(&patterns.layers.into_iter().map(f32_values).collect::<Vec<_>>(), t);
    if let Some(norms) = norms {
        capture.append_value_norms(&norms.layers.into_iter().map(f32_values).collect::<Vec<_>>(), t);
    }
    capture
}

/// Keeps every activation of one layer's attention: the hook behind "inside one head".
struct Trace {
    layer: usize,
    /// `[H, T, D]` each.
    q: Option<Tensor<3>>,
    k: Option<Tensor<3>>,
    v: Option<Tensor<3>>,
    /// `[H, T, T]`
    pattern: Option<Tensor<3>>,
    /// `[H, T, D]`
    z: Option<Tensor<3>>,
}

impl Trace {
    fn keep(layer: usize, at: usize, slot: &mut Option<Tensor<3>>, x: Tensor<3>) -> Tensor<3> {
        if layer == at {
            *slot = Some(x.clone());
        }
        x
    }
}

impl Hooks for Trace {
    fn q(&mut self, layer: usize, q: Tensor<3>) -> Tensor<3> {
        Trace::keep(layer, self.layer, &mut self.q, q)
    }
    fn k(&mut self, layer: usize, k: Tensor<3>) -> Tensor<3> {
        Trace::keep(layer, self.layer, &mut self.k, k)
    }
    fn v(&mut self, layer: usize, v: Tensor<3>) -> Tensor<3> {
        Trace::keep(layer, self.layer, &mut self.v, v)
    }
    fn pattern(&mut self, layer: usize, pattern: Tensor<3>) -> Tensor<3> {
        Trace::keep(layer, self.layer, &mut self.pattern, pattern)
    }
    fn z(&mut self, layer: usize, z: Tensor<3>) -> Tensor<3> {
        Trace::keep(layer, self.layer, &mut self.z, z)
    }
}

/// Rows `[rows]` of a `[.., cols]` tensor's values.
fn rows_of(values: &[f32], cols: usize) -> Vec<Vec<f32>> {
    values.chunks(cols).map(<[f32]>::to_vec).collect()
}

fn inside_head(model: &Gpt2, ids: &[u32], layer: usize, head: usize, query: usize) -> Result<HeadTrace> {
    let c = &model.config;
    check("layer", layer, c.n_layer)?;
    check("head", head, c.n_head)?;
    check("position", query, ids.len())?;
    let mut trace = Trace { layer, q: None, k: None, v: None, pattern: None, z: None };
    model.forward(ids, &mut KvCache::default(), &mut trace);
    let kept = |x: Option<Tensor<3>>| x.expect("every point of the traced layer is passed");
    let (q, k) = (kept(trace.q), kept(trace.k));
    let scale = model.h[layer].attn.scale;
    let dots = q.clone().matmul(k.clone().swap_dims(1, 2)); // [H, T, T], as the attention computes them
    let (t, d) = (ids.len(), c.head_dim());
    let one = |x: Tensor<3>, rows: std::ops::Range<usize>, cols: usize| f32_values(x.slice([head..head + 1, rows, 0..cols])); // [1, rows, cols]
    let row = |x: Tensor<3>, cols: usize| one(x, query..query + 1, cols);
    Ok(HeadTrace {
        layer,
        head,
        query,
        scale,
        q: row(q, d),
        keys: rows_of(&one(k, 0..t, d), d),
        values: rows_of(&one(kept(trace.v), 0..t, d), d),
        dots: row(dots.clone(), t),
        scores: row(dots * scale, t),
        weights: row(kept(trace.pattern), t),
        output: row(kept(trace.z), d),
    })
}

fn repeat_test(checkpoint: &Checkpoint, prompt: &[u32], half: usize, seed: u64, pool: Pool) -> Result<Answer> {
    let (model, c) = (&checkpoint.model, &checkpoint.model.config);
    if half == 0 || 2 * half > c.n_positions || half > MAX_REPEAT_HALF {
        return Err(Error::Analysis(format!("a repeat test of 2 × {half} tokens does not fit the context of {}", c.n_positions)));
    }
    let candidates = pool.candidates(c.vocab_size, c.eos_token_id, prompt);
    if candidates.len() < 2 {
        return Err(Error::Analysis(format!("the {} has {} distinct tokens; the repeat test needs at least 2", pool.name(), candidates.len())));
    }
    let ids = repeated_random(&candidates, half, seed);
    let mut patterns = Patterns::default();
    model.forward(&ids, &mut KvCache::default(), &mut patterns);
    let capture = capture_of(model, patterns, None, ids.len());
    Ok(Answer::Repeat { tokens: checkpoint.tokenizer.tokens(&ids), roles: roles_of(&capture, &ids) })
}

/// Answers one question about `ids` (the tokens of a run, up to the step shown).
pub fn answer(checkpoint: &Checkpoint, ids: &[u32], question: &Question) -> Result<Answer> {
    let model = &checkpoint.model;
    let c = &model.config;
    if !matches!(question, Question::RepeatTest { .. }) {
        check_ids(model, ids)?;
    }
    Ok(match question {
        Question::RepeatTest { half, seed, pool } => repeat_test(checkpoint, ids, *half, *seed, *pool)?,
        Question::Predictions => {
            let hidden = model.forward(ids, &mut KvCache::default(), &mut ());
            Answer::Predictions(predictions(checkpoint, hidden, ids))
        }
        Question::Lens { position } => {
            check("position", *position, ids.len())?;
            let mut residuals = Residuals::default();
            model.forward(ids, &mut KvCache::default(), &mut residuals);
            let label = |id: u32| checkpoint.tokenizer.tokens(&[id]).remove(0).label;
            let readouts = logit_lens(model, &residuals.streams, *position, TOP_K);
            Answer::Lens(readouts.into_iter().map(|top| top.into_iter().map(|(id, p)| Candidate { id, label: label(id), p }).collect()).collect())
        }
        Question::InsideHead { layer, head, query } => Answer::InsideHead(inside_head(model, ids, *layer, *head, *query)?),
        Question::Ablate { heads } => {
            for &(layer, head) in heads {
                check("layer", layer, c.n_layer)?;
                check("head", head, c.n_head)?;
            }
            let mut hooks = (Ablate { heads: heads.clone() }, (Patterns::default(), ValueNorms::default()));
            let hidden = model.forward(ids, &mut KvCache::default(), &mut hooks);
            let (patterns, norms) = hooks.1;
            Answer::Ablated { capture: capture_of(model, patterns, Some(norms), ids.len()), predictions: predictions(checkpoint, hidden, ids) }
        }
    })
}
