//! Questions only a new forward pass can answer: what the model predicts at every position,
//! the logit lens, every number inside one head, the run with heads switched off, and the
//! repeated random sequence. Each runs the model on the ids it is given, from scratch, on the
//! kernels with the probe it needs at their hook points ([`Probe`]): the numbers are the ones the
//! model computed. A run goes a chunk of [`PREFILL_CHUNK`] positions at a time, as a session
//! reads a prompt, so no more than a chunk's attention is held beyond what is kept.

use serde::{Deserialize, Serialize};

use crate::analysis::lens::{Residuals, logit_lens};
use crate::analysis::predict::{Candidate, Prediction};
use crate::analysis::repeat::{Pool, repeated_random};
use crate::analysis::roles::{HeadRoles, roles_of};
use crate::capture::Capture;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::kernels::Isa;
use crate::kernels::attention::KvCache;
use crate::kernels::gpt2::{Kernels, Probe};
use crate::session::{PREFILL_CHUNK, Pass};
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

fn check_ids(model: &Kernels, ids: &[u32]) -> Result<()> {
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

/// Runs `ids` through `model` from the first position, with `probe`; `each` is handed each
/// chunk's attention and its final hidden states `[T, C]`.
fn run(model: &Kernels, ids: &[u32], probe: &mut dyn Probe, mut each: impl FnMut(Pass, &[f32])) {
    let c = &model.config;
    let mut cache = KvCache::with_capacity(c.n_layer, c.n_head, c.n_embd, ids.len());
    for chunk in ids.chunks(PREFILL_CHUNK) {
        let first = cache.len();
        let mut out = model.forward_with(Isa::best(), chunk, &mut cache, probe);
        let hidden = std::mem::take(&mut out.hidden);
        each(Pass::of(model, first, out), &hidden);
    }
}

/// An empty capture with room for `positions`.
fn capture_for(model: &Kernels, positions: usize) -> Capture {
    let mut capture = Capture::new(model.config.n_layer, model.config.n_head);
    capture.reserve_positions(positions);
    capture
}

/// The predictions at the next positions of `ids` (from `out.len()`) from their final hidden
/// states `[T, C]`, appended to `out`.
fn predictions(checkpoint: &Checkpoint, hidden: &[f32], ids: &[u32], out: &mut Vec<Prediction>) {
    let model = &checkpoint.model;
    let label = |id: u32| checkpoint.tokenizer.tokens(&[id]).remove(0).label;
    for rows in hidden.chunks(LOGIT_ROWS * model.config.n_embd) {
        let logits = model.logits(Isa::best(), rows); // [rows, V]
        for row in logits.chunks(model.config.vocab_size) {
            out.push(Prediction::from_logits(row, ids.get(out.len() + 1).copied(), TOP_K, &label));
        }
    }
}

/// Switches heads off: their outputs `z` are set to zero before `c_proj` (zero ablation).
struct Ablate<'a> {
    /// `(layer, head)`s
    heads: &'a [(usize, usize)],
    n_embd: usize,
    head_dim: usize,
}

impl Probe for Ablate<'_> {
    fn attention(&mut self, layer: usize, _first: usize, _qkv: &[f32], z: &mut [f32]) {
        let d = self.head_dim;
        for &(_, head) in self.heads.iter().filter(|&&(l, _)| l == layer) {
            for row in z.chunks_exact_mut(self.n_embd) {
                row[head * d..(head + 1) * d].fill(0.0); // [T, C]: head h is columns h·D ..
            }
        }
    }
}

/// Keeps every number one head computes for one query: the probe behind "inside one head".
struct Trace {
    layer: usize,
    head: usize,
    query: usize,
    n_embd: usize,
    head_dim: usize,
    /// `[D]`
    q: Vec<f32>,
    /// `[T][D]`, every position's
    keys: Vec<Vec<f32>>,
    values: Vec<Vec<f32>>,
    /// `[D]`
    z: Vec<f32>,
}

impl Probe for Trace {
    fn attention(&mut self, layer: usize, first: usize, qkv: &[f32], z: &mut [f32]) {
        if layer != self.layer {
            return;
        }
        let (c, d) = (self.n_embd, self.head_dim);
        let head = self.head * d..(self.head + 1) * d;
        for (i, row) in qkv.chunks_exact(3 * c).enumerate() {
            // [3C]: q, k, v side by side, each head's D columns side by side in each
            let part = |p: usize| row[p * c..][head.clone()].to_vec();
            self.keys.push(part(1));
            self.values.push(part(2));
            if first + i == self.query {
                self.q = part(0);
                self.z = z[i * c..][head.clone()].to_vec();
            }
        }
    }
}

fn inside_head(model: &Kernels, ids: &[u32], layer: usize, head: usize, query: usize) -> Result<HeadTrace> {
    let c = &model.config;
    check("layer", layer, c.n_layer)?;
    check("head", head, c.n_head)?;
    check("position", query, ids.len())?;
    let mut trace = Trace { layer, head, query, n_embd: c.n_embd, head_dim: c.head_dim(), q: Vec::new(), keys: Vec::new(), values: Vec::new(), z: Vec::new() };
    let mut weights = vec![0.0; ids.len()]; // later keys masked: 0
    run(model, ids, &mut trace, |pass, _| {
        if (pass.first..pass.first + pass.positions()).contains(&query) {
            let (rows, _) = pass.position(query - pass.first); // [n_layer][n_head][query + 1]
            weights[..=query].copy_from_slice(&rows[(layer * c.n_head + head) * (query + 1)..][..=query]);
        }
    });
    let scale = model.h[layer].scale;
    let dots: Vec<f32> = trace.keys.iter().map(|k| trace.q.iter().zip(k).map(|(a, b)| a * b).sum()).collect();
    Ok(HeadTrace { layer, head, query, scale, scores: dots.iter().map(|d| d * scale).collect(), dots, q: trace.q, keys: trace.keys, values: trace.values, weights, output: trace.z })
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
    let mut capture = capture_for(model, ids.len());
    run(model, &ids, &mut (), |pass, _| pass.record(&mut capture));
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
            let mut out = Vec::with_capacity(ids.len());
            run(model, ids, &mut (), |_, hidden| predictions(checkpoint, hidden, ids, &mut out));
            Answer::Predictions(out)
        }
        Question::Lens { position } => {
            check("position", *position, ids.len())?;
            // the positions after it cannot change it: the run stops there, and its last
            // position is the one read out
            let mut residuals = Residuals::new(model);
            run(model, &ids[..=*position], &mut residuals, |_, _| {});
            let label = |id: u32| checkpoint.tokenizer.tokens(&[id]).remove(0).label;
            let readouts = logit_lens(model, &residuals.streams, TOP_K);
            Answer::Lens(readouts.into_iter().map(|top| top.into_iter().map(|(id, p)| Candidate { id, label: label(id), p }).collect()).collect())
        }
        Question::InsideHead { layer, head, query } => Answer::InsideHead(inside_head(model, ids, *layer, *head, *query)?),
        Question::Ablate { heads } => {
            for &(layer, head) in heads {
                check("layer", layer, c.n_layer)?;
                check("head", head, c.n_head)?;
            }
            let mut ablate = Ablate { heads, n_embd: c.n_embd, head_dim: c.head_dim() };
            let (mut capture, mut predicted) = (capture_for(model, ids.len()), Vec::with_capacity(ids.len()));
            run(model, ids, &mut ablate, |pass, hidden| {
                pass.record(&mut capture);
                predictions(checkpoint, hidden, ids, &mut predicted);
            });
            Answer::Ablated { capture, predictions: predicted }
        }
    })
}
