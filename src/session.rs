//! A prompt being read and continued: the KV cache, the ids so far, the logits at the last
//! position, and (when asked) the attention capture. The prompt is read in chunks of
//! [`PREFILL_CHUNK`] positions through the KV cache, and generation is [`Generation`], the one
//! engine the CLI, the worker and the replay of a link or an export use: it takes a step at a
//! time, so the worker can stream and cancel, and its stop rules exist only there.
//!
//! A session runs on the kernels ([`crate::kernels`]), compiled for the best instruction set
//! this machine runs unless it is opened on another ([`Session::open_on`]); the tests hold them
//! to the burn reference ([`crate::model`]).

use crate::capture::Capture;
use crate::error::{Error, Result};
use crate::kernels::attention::KvCache;
use crate::kernels::gpt2::{Kernels, Output};
use crate::kernels::{self, Isa};
use crate::model::generate::{Decoding, Sampler};

/// Prompt positions read in one forward pass. A pass's attention is `[n_head, T, T_past + T]`
/// per layer, so a long prompt never holds all of it at once: for GPT-2 small at 1024 tokens a
/// chunk of 128 holds at most 75 MB, where one pass over the whole prompt would hold 604 MB.
pub const PREFILL_CHUNK: usize = 128;

pub struct Session {
    isa: Isa,
    cache: KvCache,
    /// The ids run so far: the prompt read so far, then the generated ones.
    ids: Vec<u32>,
    prompt: Vec<u32>,
    last_logits: Vec<f32>,
    capture: Option<Capture>,
}

/// The attention one forward pass computed for its new positions, in the capture's layout.
#[derive(Debug, Clone)]
pub struct Pass {
    /// The position of its first new query.
    pub first: usize,
    layout: kernels::attention::Rows,
    /// Query after query, layer after layer, head after head, the weights over keys
    /// `0..=position` ([`kernels::attention::Rows`]).
    rows: Vec<f32>,
    /// `‖v‖` of each new position in each head, `[T][n_layer][n_head]`.
    value_norms: Vec<f32>,
}

impl Pass {
    /// The new positions it ran.
    pub fn positions(&self) -> usize {
        self.layout.positions
    }

    /// New query `i` (position `first + i`): its weights, layer after layer and head after head
    /// over keys `0..=first + i`, and its `‖v‖` `[layer][head]`: what
    /// [`Capture::append_position`] takes.
    pub fn position(&self, i: usize) -> (&[f32], &[f32]) {
        let per_position = self.layout.n_layer * self.layout.n_head;
        (&self.rows[self.layout.before(i)..self.layout.before(i + 1)], &self.value_norms[i * per_position..(i + 1) * per_position])
    }

    /// The attention of a pass of `model` that began at position `first`.
    pub fn of(model: &Kernels, first: usize, out: Output) -> Pass {
        let positions = out.value_norms.len() / (model.config.n_layer * model.config.n_head);
        let layout = kernels::attention::Rows { first, positions, n_layer: model.config.n_layer, n_head: model.config.n_head };
        Pass { first, layout, rows: out.rows, value_norms: out.value_norms }
    }

    /// Appends its positions to `capture`.
    pub fn record(&self, capture: &mut Capture) {
        for i in 0..self.positions() {
            let (rows, norms) = self.position(i);
            capture.append_position(rows, norms);
        }
    }
}

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The model emitted `<|endoftext|>` (it is the last generated id).
    EndOfText,
    /// The requested number of tokens was generated.
    Count,
    /// The context is full: no position is left for another token.
    ContextFull,
    /// The run was cancelled (or superseded) before its next token.
    Cancelled,
}

/// Refuses ids the embedding has no row for.
fn in_vocabulary(model: &Kernels, ids: &[u32]) -> Result<()> {
    let vocab_size = model.config.vocab_size;
    match ids.iter().find(|&&id| id as usize >= vocab_size) {
        Some(id) => Err(Error::Tokenizer(format!("token id {id} is outside the model's vocabulary of {vocab_size}"))),
        None => Ok(()),
    }
}

impl Session {
    /// Reads the prompt, chunk by chunk. Refuses what [`Session::open`] refuses.
    pub fn start(model: &Kernels, prompt: &[u32], capture: bool) -> Result<Self> {
        Session::start_on(Isa::best(), model, prompt, capture)
    }

    /// [`Session::start`] on the kernels for `isa`.
    pub fn start_on(isa: Isa, model: &Kernels, prompt: &[u32], capture: bool) -> Result<Self> {
        let mut session = Session::open_on(isa, model, prompt, capture)?;
        while session.read_prompt(model).is_some() {}
        Ok(session)
    }

    /// A session for `prompt` that has read none of it yet: [`Session::read_prompt`] reads it.
    /// Refuses an empty prompt, a prompt longer than the context, and ids outside the vocabulary.
    pub fn open(model: &Kernels, prompt: &[u32], capture: bool) -> Result<Self> {
        Session::open_on(Isa::best(), model, prompt, capture)
    }

    /// [`Session::open`] on the kernels for `isa`.
    pub fn open_on(isa: Isa, model: &Kernels, prompt: &[u32], capture: bool) -> Result<Self> {
        let config = &model.config;
        if prompt.is_empty() {
            return Err(Error::Prompt("is empty: type some text to run the model on".into()));
        }
        if prompt.len() > config.n_positions {
            return Err(Error::Prompt(format!(
                "is {} tokens long; this model's context holds at most {} tokens",
                prompt.len(),
                config.n_positions
            )));
        }
        in_vocabulary(model, prompt)?;
        // The capture takes the whole prompt's room at once: growing chunk by chunk would copy
        // it each time it doubled.
        let capture = capture.then(|| {
            let mut capture = Capture::new(config.n_layer, config.n_head);
            capture.reserve_positions(prompt.len());
            capture
        });
        // room for the whole context at once: generation then never copies the cache
        let cache = KvCache::with_capacity(config.n_layer, config.n_head, config.n_embd, config.n_positions);
        Ok(Session { isa, cache, ids: Vec::with_capacity(prompt.len()), prompt: prompt.to_vec(), last_logits: Vec::new(), capture })
    }

    /// Reads the next [`PREFILL_CHUNK`] positions of the prompt (fewer at its end); `None` once
    /// the whole prompt is read.
    pub fn read_prompt(&mut self, model: &Kernels) -> Option<Pass> {
        let start = self.ids.len();
        let end = self.prompt.len().min(start + PREFILL_CHUNK);
        (start < end).then(|| {
            let chunk = self.prompt[start..end].to_vec();
            self.run(model, &chunk)
        })
    }

    /// Runs `ids` as the next positions, keeping their attention; the logits are computed once
    /// the prompt is read.
    fn run(&mut self, model: &Kernels, ids: &[u32]) -> Pass {
        let (first, t, c) = (self.ids.len(), ids.len(), model.config.n_embd);
        self.ids.extend_from_slice(ids);
        let out = model.forward(self.isa, ids, &mut self.cache); // hidden [T, C]
        if self.ids.len() >= self.prompt.len() {
            self.last_logits = model.logits(self.isa, &out.hidden[(t - 1) * c..]);
        }
        let pass = Pass::of(model, first, out);
        if let Some(capture) = &mut self.capture {
            pass.record(capture);
        }
        pass
    }

    /// Positions still free in the context.
    pub fn room(&self, model: &Kernels) -> usize {
        model.config.n_positions - self.ids.len().max(self.prompt.len())
    }

    /// Appends one token after the whole prompt and runs it. Refused while the prompt is still
    /// being read, when the context is full, or when the id is outside the vocabulary (a
    /// permalink's ids are input from a stranger).
    pub fn push(&mut self, model: &Kernels, id: u32) -> Result<Pass> {
        if self.ids.len() < self.prompt.len() {
            return Err(Error::Prompt(format!("is still being read: {} of {} tokens so far", self.ids.len(), self.prompt.len())));
        }
        if self.room(model) == 0 {
            return Err(Error::Prompt(format!("the context of {} tokens is full", model.config.n_positions)));
        }
        in_vocabulary(model, &[id])?;
        Ok(self.run(model, &[id]))
    }

    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    pub fn prompt_len(&self) -> usize {
        self.prompt.len()
    }

    /// The generated ids (after the prompt).
    pub fn generated(&self) -> &[u32] {
        self.ids.get(self.prompt.len()..).unwrap_or_default()
    }

    /// All vocabulary logits predicting the token after the last one run.
    pub fn last_logits(&self) -> &[f32] {
        &self.last_logits
    }

    pub fn capture(&self) -> Option<&Capture> {
        self.capture.as_ref()
    }
}

/// What one step of [`Generation`] did.
pub enum Next {
    /// It ran one more token: its id and the attention its position added.
    Token(u32, Pass),
    /// A stop rule held: no token was run.
    Stopped(Stop),
}

/// Generation after a session's prompt: the one engine for the CLI, the worker and replays.
/// Each [`Generation::step`] first applies the stop rules, in this order: the last token was
/// `<|endoftext|>`; the context is full; `max_new` tokens were made; the run was cancelled. Then
/// it chooses the next token (refusing logits that are not numbers) and runs it.
pub struct Generation {
    sampler: Sampler,
    max_new: usize,
    /// Ids to run instead of the chosen ones, step by step (a link's or an export's generated
    /// text). The sampler still draws at each of these steps, so sampling after them continues
    /// the original stream.
    forced: Vec<u32>,
}

impl Generation {
    /// Up to `max_new` tokens chosen by `decoding`, the first ones `forced`.
    pub fn new(decoding: Decoding, max_new: usize, forced: Vec<u32>) -> Result<Self> {
        Ok(Generation { sampler: Sampler::new(decoding)?, max_new, forced })
    }

    /// A run's generated `ids` again: each is run as it was, and generation stops where they end.
    pub fn replay(decoding: Decoding, ids: &[u32]) -> Result<Self> {
        Generation::new(decoding, ids.len(), ids.to_vec())
    }

    /// One token more, or why not. `cancelled` is the caller's word that the run should stop.
    pub fn step(&mut self, model: &Kernels, session: &mut Session, cancelled: bool) -> Result<Next> {
        let made = session.generated();
        let stop = if made.last() == Some(&model.config.eos_token_id) {
            Some(Stop::EndOfText)
        } else if session.room(model) == 0 {
            Some(Stop::ContextFull)
        } else if made.len() >= self.max_new {
            Some(Stop::Count)
        } else if cancelled {
            Some(Stop::Cancelled)
        } else {
            None
        };
        if let Some(stop) = stop {
            return Ok(Next::Stopped(stop));
        }
        let forced = self.forced.get(made.len()).copied();
        let chosen = self.sampler.pick(session.last_logits())?;
        let id = forced.unwrap_or(chosen);
        Ok(Next::Token(id, session.push(model, id)?))
    }

    /// Steps until a stop rule holds, calling `on_token` after each token.
    pub fn run(&mut self, model: &Kernels, session: &mut Session, mut on_token: impl FnMut(&Session, u32)) -> Result<Stop> {
        loop {
            match self.step(model, session, false)? {
                Next::Token(id, _) => on_token(session, id),
                Next::Stopped(stop) => return Ok(stop),
            }
        }
    }
}
