//! A prompt being read and continued: the KV cache, the ids so far, the logits at the last
//! position, and (when asked) the attention capture. Generation is a loop of
//! [`Session::push`]; the app's worker runs it one step at a time so it can stream and cancel.

use burn::tensor::Tensor;

use crate::capture::Capture;
use crate::error::{Error, Result};
use crate::model::generate::Sampler;
use crate::model::f32_values;
use crate::model::gpt2::{ForwardOutput, Gpt2, KvCache};

pub struct Session {
    cache: KvCache,
    ids: Vec<u32>,
    prompt_len: usize,
    last_logits: Vec<f32>,
    capture: Option<Capture>,
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
}

/// Refuses ids the embedding has no row for.
fn in_vocabulary(model: &Gpt2, ids: &[u32]) -> Result<()> {
    let vocab_size = model.config.vocab_size;
    match ids.iter().find(|&&id| id as usize >= vocab_size) {
        Some(id) => Err(Error::Tokenizer(format!("token id {id} is outside the model's vocabulary of {vocab_size}"))),
        None => Ok(()),
    }
}

impl Session {
    /// Reads the prompt in one forward pass. Refuses an empty prompt, a prompt longer than the
    /// context, and ids outside the vocabulary.
    pub fn start(model: &Gpt2, prompt: &[u32], capture: bool) -> Result<Self> {
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
        let mut session = Session {
            cache: KvCache::default(),
            ids: Vec::new(),
            prompt_len: prompt.len(),
            last_logits: Vec::new(),
            capture: capture.then(|| Capture::new(config.n_layer, config.n_head)),
        };
        session.run(model, prompt);
        Ok(session)
    }

    fn run(&mut self, model: &Gpt2, ids: &[u32]) {
        let ForwardOutput { hidden, attentions, value_norms, .. } = model.forward(ids, &mut self.cache);
        if let Some(capture) = &mut self.capture {
            let layers: Vec<Vec<f32>> = attentions.into_iter().map(|w| f32_values(w)).collect();
            capture.append(&layers, ids.len());
            let norms: Vec<Vec<f32>> = value_norms.into_iter().map(|n| f32_values(n)).collect();
            capture.append_value_norms(&norms, ids.len());
        }
        let [t, c] = hidden.dims();
        let last: Tensor<2> = hidden.slice([t - 1..t, 0..c]); // [1, C]
        self.last_logits = f32_values(model.logits(last));
        self.ids.extend_from_slice(ids);
    }

    /// Positions still free in the context.
    pub fn room(&self, model: &Gpt2) -> usize {
        model.config.n_positions - self.ids.len()
    }

    /// Appends one token and runs it. Refused when the context is full or the id is outside
    /// the vocabulary (a permalink's ids are input from a stranger).
    pub fn push(&mut self, model: &Gpt2, id: u32) -> Result<()> {
        if self.room(model) == 0 {
            return Err(Error::Prompt(format!("the context of {} tokens is full", model.config.n_positions)));
        }
        in_vocabulary(model, &[id])?;
        self.run(model, &[id]);
        Ok(())
    }

    /// Generates up to `max_new` tokens, calling `on_token` after each.
    pub fn generate(&mut self, model: &Gpt2, sampler: &mut Sampler, max_new: usize, mut on_token: impl FnMut(&Session, u32)) -> Stop {
        for _ in 0..max_new {
            if self.room(model) == 0 {
                return Stop::ContextFull;
            }
            let id = sampler.pick(&self.last_logits);
            self.run(model, &[id]);
            on_token(self, id);
            if id == model.config.eos_token_id {
                return Stop::EndOfText;
            }
        }
        Stop::Count
    }

    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    pub fn prompt_len(&self) -> usize {
        self.prompt_len
    }

    /// The generated ids (after the prompt).
    pub fn generated(&self) -> &[u32] {
        &self.ids[self.prompt_len..]
    }

    /// All vocabulary logits predicting the token after the last one run.
    pub fn last_logits(&self) -> &[f32] {
        &self.last_logits
    }

    pub fn capture(&self) -> Option<&Capture> {
        self.capture.as_ref()
    }
}
