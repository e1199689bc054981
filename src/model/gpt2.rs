//! The stack: embeddings, `n_layer` blocks, final LayerNorm, LM head (tied to `wte` unless the
//! config unties it), with a KV cache so generation runs one new position at a time.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use super::attention::{AttentionTrace, LayerCache, LayerProbe};
use super::block::Block;
use super::config::Gpt2Config;
use super::embedding::Embeddings;
use super::gemv;
use super::layers::LayerNorm;

#[derive(Module, Debug)]
pub struct Gpt2 {
    /// `wte` and `wpe`.
    pub embeddings: Embeddings,
    /// The blocks `h.0` .. `h.{n_layer-1}`.
    pub h: Vec<Block>,
    pub ln_f: LayerNorm,
    /// `[vocab_size, n_embd]`, only when `tie_word_embeddings` is false; otherwise the head is `wte`.
    pub lm_head: Option<Param<Tensor<2>>>,
    #[module(skip)]
    pub config: Gpt2Config,
}

/// Keys and values of every position seen so far, per layer.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    layers: Vec<Option<LayerCache>>,
    len: usize,
}

impl KvCache {
    /// Positions already in the cache.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What a forward pass does beyond the plain model: heads switched off, intermediates kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probe {
    /// Heads whose output is zeroed, as `(layer, head)`.
    pub ablate: Vec<(usize, usize)>,
    /// Keep the residual stream entering the first block and leaving every block.
    pub residual: bool,
    /// Keep every intermediate of this layer's attention.
    pub trace: Option<usize>,
}

impl Probe {
    fn layer(&self, layer: usize) -> LayerProbe {
        LayerProbe {
            ablate: self.ablate.iter().filter(|(l, _)| *l == layer).map(|&(_, h)| h).collect(),
            trace: self.trace == Some(layer),
        }
    }
}

/// What one forward pass over new positions computed.
pub struct ForwardOutput {
    /// The residual stream after `ln_f`, `[T, n_embd]`.
    pub hidden: Tensor<2>,
    /// Per layer, the attention weights `[n_head, T, T_past + T]`.
    pub attentions: Vec<Tensor<3>>,
    /// Per layer, `‖v‖` of each new position in each head, `[n_head, T]`.
    pub value_norms: Vec<Tensor<2>>,
    /// With [`Probe::residual`]: `n_layer + 1` residual streams `[T, n_embd]`, the embeddings
    /// then the output of each block (before `ln_f`); otherwise empty.
    pub residuals: Vec<Tensor<2>>,
    /// With [`Probe::trace`]: the traced layer's intermediates.
    pub trace: Option<AttentionTrace>,
}

impl Gpt2 {
    /// Runs `ids` as the positions following those in `cache`, and extends the cache.
    /// The caller keeps `cache.len() + ids.len() <= n_positions` (see [`crate::session`]).
    pub fn forward(&self, ids: &[u32], cache: &mut KvCache) -> ForwardOutput {
        self.forward_probed(ids, cache, &Probe::default())
    }

    /// [`Gpt2::forward`] with heads switched off or intermediates kept, as `probe` asks.
    pub fn forward_probed(&self, ids: &[u32], cache: &mut KvCache, probe: &Probe) -> ForwardOutput {
        cache.layers.resize(self.h.len(), None);
        let mut x = self.embeddings.forward(ids, cache.len); // [T, C]
        let (mut attentions, mut value_norms, mut residuals, mut trace) = (Vec::new(), Vec::new(), Vec::new(), None);
        for (i, (block, layer_cache)) in self.h.iter().zip(&mut cache.layers).enumerate() {
            if probe.residual {
                residuals.push(x.clone());
            }
            let (next, attn) = block.forward(x, layer_cache, &probe.layer(i));
            x = next;
            attentions.push(attn.weights);
            value_norms.push(attn.value_norms);
            trace = trace.or(attn.trace);
        }
        if probe.residual {
            residuals.push(x.clone());
        }
        cache.len += ids.len();
        ForwardOutput { hidden: self.ln_f.forward(x), attentions, value_norms, residuals, trace }
    }

    /// `[T, n_embd] -> [T, vocab_size]`: the hidden state against every token's embedding.
    pub fn logits(&self, hidden: Tensor<2>) -> Tensor<2> {
        let head = match &self.lm_head {
            Some(lm_head) => lm_head.val(),
            None => self.embeddings.wte.val(),
        }; // [V, C]
        if hidden.dims()[0] == 1
            && let Some(logits) = gemv::row_times_transposed(&hidden, head.clone())
        {
            return logits; // one dot product per vocabulary row
        }
        // (head · hiddenᵀ)ᵀ rather than hidden · headᵀ: the big matrix is read as stored,
        // never transposed.
        head.matmul(hidden.transpose()).transpose() // [V, T] -> [T, V]
    }
}
