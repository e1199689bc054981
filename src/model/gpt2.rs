//! The stack: embeddings, `n_layer` blocks, final LayerNorm, LM head (tied to `wte` unless the
//! config unties it), with a KV cache so generation runs one new position at a time. This is the
//! reference the kernels ([`crate::kernels`]) are held to in the tests.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

use super::attention::LayerCache;
use super::block::Block;
use super::config::Gpt2Config;
use super::embedding::Embeddings;
use super::hooks::Hooks;
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
    layers: Vec<LayerCache>,
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

impl Gpt2 {
    /// Runs `ids` as the positions following those in `cache`, and extends the cache; every
    /// activation worth reading passes through `hooks` (`&mut ()` for none). Returns the
    /// residual stream after `ln_f`, `[T, n_embd]`.
    /// The caller keeps `cache.len() + ids.len() <= n_positions` (see [`crate::session`]).
    pub fn forward(&self, ids: &[u32], cache: &mut KvCache, hooks: &mut dyn Hooks) -> Tensor<2> {
        cache.layers.resize_with(self.h.len(), LayerCache::default);
        let mut x = self.embeddings.forward(ids, cache.len); // [T, C]
        for (layer, (block, layer_cache)) in self.h.iter().zip(&mut cache.layers).enumerate() {
            x = block.forward(layer, x, layer_cache, hooks); // [T, C]
        }
        cache.len += ids.len();
        self.ln_f.forward(x) // [T, C]
    }

    /// `[T, n_embd] -> [T, vocab_size]`: the hidden state against every token's embedding.
    pub fn logits(&self, hidden: Tensor<2>) -> Tensor<2> {
        // (head · hiddenᵀ)ᵀ rather than hidden · headᵀ: the big matrix is read as stored,
        // never transposed.
        self.head().matmul(hidden.transpose()).transpose() // [V, T] -> [T, V]
    }

    /// The LM head, `[vocab_size, n_embd]`: `wte` unless the config unties it.
    pub fn head(&self) -> Tensor<2> {
        match &self.lm_head {
            Some(lm_head) => lm_head.val(),
            None => self.embeddings.wte.val(),
        }
    }
}
