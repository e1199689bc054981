//! The logit lens (nostalgebraist 2020, "interpreting GPT: the logit lens"): the residual
//! stream after each layer read out as if it were the last one, through the final LayerNorm
//! `ln_f` and the (tied) LM head, to watch the prediction form layer by layer. Read after the
//! last layer it is the model's own output.

use crate::analysis::predict::{probabilities, top_k};
use crate::kernels::Isa;
use crate::kernels::gpt2::{Kernels, Probe};

/// Reads the residual stream at `blocks.0.hook_resid_pre` and every `hook_resid_post`, at the
/// last position of the pass: the `n_layer + 1` streams the lens reads out (the embeddings,
/// then each block's output). A pass run in chunks leaves the last chunk's.
#[derive(Debug, Clone)]
pub struct Residuals {
    /// `n_embd`
    width: usize,
    /// `[n_layer + 1, C]`
    pub streams: Vec<f32>,
}

impl Residuals {
    pub fn new(model: &Kernels) -> Residuals {
        let c = &model.config;
        Residuals { width: c.n_embd, streams: vec![0.0; (c.n_layer + 1) * c.n_embd] }
    }
}

impl Probe for Residuals {
    fn resid(&mut self, layer: usize, _first: usize, x: &[f32]) {
        let c = self.width;
        self.streams[layer * c..(layer + 1) * c].copy_from_slice(&x[x.len() - c..]);
    }
}

/// The next-token probabilities read out from each of `streams: [n, C]` (those [`Residuals`]
/// keeps): one `[vocab_size]` distribution per stream.
fn read_out(model: &Kernels, streams: &[f32]) -> Vec<Vec<f64>> {
    let mut normed = vec![0.0; streams.len()];
    model.ln_f.forward(streams, &mut normed); // [n, C]
    let logits = model.logits(Isa::best(), &normed); // [n, V]
    logits.chunks(model.config.vocab_size).map(probabilities).collect()
}

/// The `k` most likely next tokens after each layer, with their probabilities.
pub fn logit_lens(model: &Kernels, streams: &[f32], k: usize) -> Vec<Vec<(u32, f32)>> {
    read_out(model, streams).iter().map(|p| top_k(p, k)).collect()
}
