//! The logit lens (nostalgebraist 2020, "interpreting GPT: the logit lens"): the residual
//! stream after each layer read out as if it were the last one, through the final LayerNorm
//! `ln_f` and the (tied) LM head, to watch the prediction form layer by layer. Read after the
//! last layer it is the model's own output.

use burn::tensor::Tensor;

use crate::analysis::predict::{probabilities, top_k};
use crate::model::f32_values;
use crate::model::gpt2::Gpt2;
use crate::model::hooks::Hooks;

/// Reads the residual stream at `blocks.0.hook_resid_pre` and every `hook_resid_post`: the
/// `n_layer + 1` streams `[T, C]` the lens reads out (the embeddings, then each block's output).
#[derive(Debug, Clone, Default)]
pub struct Residuals {
    pub streams: Vec<Tensor<2>>,
}

impl Hooks for Residuals {
    fn resid_pre(&mut self, layer: usize, x: Tensor<2>) -> Tensor<2> {
        if layer == 0 {
            self.streams.push(x.clone());
        }
        x
    }

    fn resid_post(&mut self, _layer: usize, x: Tensor<2>) -> Tensor<2> {
        self.streams.push(x.clone());
        x
    }
}

/// The next-token probabilities of `position` read out from each residual stream: `residuals`
/// are the `n_layer + 1` streams `[T, C]` [`Residuals`] keeps (the embeddings, then the
/// output of each block). Returns one `[vocab_size]` distribution per stream.
pub fn read_out(model: &Gpt2, residuals: &[Tensor<2>], position: usize) -> Vec<Vec<f64>> {
    let rows: Vec<Tensor<2>> = residuals
        .iter()
        .map(|r| {
            let [_, c] = r.dims();
            r.clone().slice([position..position + 1, 0..c]) // [1, C]
        })
        .collect();
    let stacked = Tensor::cat(rows, 0); // [n_layer + 1, C]
    let logits = f32_values(model.logits(model.ln_f.forward(stacked))); // [n_layer + 1, V]
    logits.chunks(model.config.vocab_size).map(probabilities).collect()
}

/// The `k` most likely next tokens after each layer, with their probabilities.
pub fn logit_lens(model: &Gpt2, residuals: &[Tensor<2>], position: usize, k: usize) -> Vec<Vec<(u32, f32)>> {
    read_out(model, residuals, position).iter().map(|p| top_k(p, k)).collect()
}
