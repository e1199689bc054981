//! A prompt read and continued greedily on the burn reference, as a session reads and generates
//! on the kernels ([`crate::session`]): the prompt a chunk of [`PREFILL_CHUNK`] positions at a
//! time through the KV cache, then one position per generated token, with the same stop rules.
//! What the tests hold the kernels to, and what the native benchmark times beside them.

use super::f32_values;
use super::generate::argmax;
use super::gpt2::{Gpt2, KvCache};
use super::hooks::{Patterns, ValueNorms};
use crate::capture::Capture;
use crate::session::PREFILL_CHUNK;

/// What a reference run computed.
pub struct Run {
    /// Every position's attention and value norms, when asked for.
    pub capture: Option<Capture>,
    /// The logits after the prompt.
    pub last_logits: Vec<f32>,
    /// The greedy ids after the prompt.
    pub generated: Vec<u32>,
}

/// Reads `prompt` and generates up to `new_tokens` greedily after it, stopping after
/// `<|endoftext|>` or when the context is full. The caller keeps the prompt within the context.
pub fn run(model: &Gpt2, prompt: &[u32], new_tokens: usize, capture: bool) -> Run {
    let c = &model.config;
    let mut cache = KvCache::default();
    let mut kept = capture.then(|| Capture::new(c.n_layer, c.n_head));
    // one forward pass over `ids`: the logits at its last position
    let mut pass = |ids: &[u32], cache: &mut KvCache| -> Vec<f32> {
        let hidden = match &mut kept {
            Some(capture) => {
                let mut hooks = (Patterns::default(), ValueNorms::default());
                let hidden = model.forward(ids, cache, &mut hooks);
                capture.append(&hooks.0.layers.into_iter().map(f32_values).collect::<Vec<_>>(), ids.len()); // per layer [H, T, Tk]
                capture.append_value_norms(&hooks.1.layers.into_iter().map(f32_values).collect::<Vec<_>>(), ids.len()); // per layer [H, T]
                hidden
            }
            None => model.forward(ids, cache, &mut ()),
        }; // [T, C]
        let [t, width] = hidden.dims();
        f32_values(model.logits(hidden.slice([t - 1..t, 0..width]))) // [1, V]
    };
    let mut logits = Vec::new();
    for chunk in prompt.chunks(PREFILL_CHUNK) {
        logits = pass(chunk, &mut cache);
    }
    let last_logits = logits.clone();
    let mut generated = Vec::new();
    while generated.last() != Some(&c.eos_token_id) && cache.len() < c.n_positions && generated.len() < new_tokens {
        let id = argmax(&logits);
        generated.push(id);
        logits = pass(&[id], &mut cache);
    }
    Run { capture: kept, last_logits, generated }
}
