//! GPT-2's stack on the kernels: the blocks' weights packed once from a loaded
//! [`crate::model::gpt2::Gpt2`], the embeddings read where burn keeps them. The LM head is read
//! there too, unless its values are 16-bit ones: then a 16-bit packed copy halves what each
//! generated token streams through it.
//! `x = x + attn(ln_1(x))`, `x = x + mlp(ln_2(x))`, each residual add fused with the LayerNorm
//! that follows it.

// burn 0.22 marks its ndarray backend deprecated in favour of burn-flex; ndarray is the backend
// this project is built on, so its primitives are used here knowingly.
#![allow(deprecated)]

use burn::tensor::Tensor;
use burn_ndarray::{NdArray, NdArrayTensor};

use super::attention::{self, KvCache, Rows};
use super::gemm::{Packed, Precision, linear};
use super::math::{Norm, dot};
use super::simd::Lanes;
use super::{Isa, on_isa, threads};
use crate::model::config::Activation;
use crate::model::f32_values;
use crate::model::gpt2::Gpt2;
use crate::model::layers::{Conv1D, LayerNorm};

/// One block's parameters, under GPT-2's names.
#[derive(Debug, Clone)]
pub struct Block {
    pub ln_1: Norm,
    /// `attn.c_attn`, `[C, 3C]`
    pub c_attn: Packed,
    /// `attn.c_proj`, `[C, C]`
    pub attn_c_proj: Packed,
    /// `1/sqrt(head_dim)` (and `1/(layer+1)` where the config asks).
    pub scale: f32,
    pub ln_2: Norm,
    /// `mlp.c_fc`, `[C, n_inner]`
    pub c_fc: Packed,
    /// `mlp.c_proj`, `[n_inner, C]`
    pub mlp_c_proj: Packed,
}

/// The blocks and `ln_f` of a [`Gpt2`], packed for the kernels.
#[derive(Debug, Clone)]
pub struct Kernels {
    pub h: Vec<Block>,
    pub ln_f: Norm,
    /// The LM head's `Wᵀ`, `[n_embd, vocab_size]`, when every value is a 16-bit one.
    head: Option<Packed>,
    n_head: usize,
    activation: Activation,
}

/// What one pass computed for its `T` new positions.
pub struct Output {
    /// The residual stream after `ln_f`, `[T, C]`.
    pub hidden: Vec<f32>,
    /// Every layer's and head's softmax rows, in the capture's layout ([`Rows`]).
    pub rows: Vec<f32>,
    /// `‖v‖` per new position, layer and head, `[T][n_layer][n_head]`.
    pub value_norms: Vec<f32>,
}

/// Runs `f` on the row-major values of a 2-D f32 tensor without copying them where it lives on
/// the ndarray backend and is contiguous; on a copy otherwise.
pub fn with_values<R>(tensor: Tensor<2>, f: impl FnOnce(&[f32]) -> R) -> R {
    if let Ok(NdArrayTensor::F32(storage)) = tensor.clone().try_into_primitive::<NdArray>()
        && let Some(values) = storage.view().as_slice()
    {
        return f(values);
    }
    f(&f32_values(tensor))
}

fn norm(ln: &LayerNorm) -> Norm {
    Norm { weight: f32_values(ln.weight.val()), bias: f32_values(ln.bias.val()), eps: ln.eps }
}

fn pack(conv: &Conv1D) -> Packed {
    let [n_in, n_out] = conv.weight.dims();
    with_values(conv.weight.val(), |w| Packed::new(w, &f32_values(conv.bias.val()), n_in, n_out))
}

impl Kernels {
    /// Packs `model`'s blocks.
    pub fn pack(model: &Gpt2) -> Kernels {
        let h = model
            .h
            .iter()
            .map(|b| Block {
                ln_1: norm(&b.ln_1),
                c_attn: pack(&b.attn.c_attn),
                attn_c_proj: pack(&b.attn.c_proj),
                scale: b.attn.scale,
                ln_2: norm(&b.ln_2),
                c_fc: pack(&b.mlp.c_fc),
                mlp_c_proj: pack(&b.mlp.c_proj),
            })
            .collect();
        let (v, c) = (model.config.vocab_size, model.config.n_embd);
        // the head's values are scanned once: an f32 head is read in place, with no copy
        let head = with_values(model.head(), |w| match Precision::of(w) {
            Precision::F32 => None,
            precision => Some(Packed::transposed(w, v, c, precision)),
        });
        Kernels { h, ln_f: norm(&model.ln_f), head, n_head: model.config.n_head, activation: model.config.activation }
    }

    /// The type the blocks' products read their weights in: `f32`, `f16`, `bf16`, or `mixed`.
    pub fn precision(&self) -> &'static str {
        let mut each = self.h.iter().flat_map(|b| [&b.c_attn, &b.attn_c_proj, &b.c_fc, &b.mlp_c_proj]).map(Packed::precision);
        let first = each.next().unwrap_or(Precision::F32);
        if each.all(|p| p == first) { first.name() } else { "mixed" }
    }

    /// Runs `ids` as the positions following those in `cache`, and extends the cache.
    /// `model` is the model these kernels were packed from (its embeddings are read there).
    /// The caller keeps `cache.len() + ids.len() <= n_positions`.
    pub fn forward(&self, isa: Isa, model: &Gpt2, ids: &[u32], cache: &mut KvCache) -> Output {
        let config = &model.config;
        let (t, c, n_layer, n_head) = (ids.len(), config.n_embd, self.h.len(), self.n_head);
        if cache.layers.len() != n_layer {
            *cache = KvCache::with_capacity(n_layer, n_head, c, config.n_positions);
        }
        let layout = Rows { first: cache.len(), positions: t, n_layer, n_head };
        let mut x = embed(model, ids, layout.first); // [T, C]
        let mut h = vec![0.0f32; t * c]; // [T, C], a LayerNorm's output
        let mut qkv = vec![0.0f32; t * 3 * c]; // [T, 3C]
        let mut z = vec![0.0f32; t * c]; // [T, C], the heads side by side
        let mut delta = vec![0.0f32; t * c]; // [T, C], what a sublayer adds to x
        let mut mlp = vec![0.0f32; t * config.n_inner]; // [T, n_inner]
        let mut rows = vec![0.0f32; layout.total()];
        let mut value_norms = vec![0.0f32; t * n_layer * n_head];

        self.h[0].ln_1.forward(&x, &mut h); // ln_1(x) of block 0; later ones come with the residual add
        for (layer, (block, layer_cache)) in self.h.iter().zip(&mut cache.layers).enumerate() {
            // x = x + attn(ln_1(x))
            linear(isa, &h, &block.c_attn, None, &mut qkv); // [T, 3C]
            attention::causal(isa, layer, &qkv, layer_cache, n_head, block.scale, layout, &mut rows, &mut value_norms, &mut z); // [T, C]
            linear(isa, &z, &block.attn_c_proj, None, &mut delta); // [T, C]
            block.ln_2.add_and_forward(&mut x, &delta, &mut h); // x += attn; h = ln_2(x)
            // x = x + mlp(ln_2(x))
            linear(isa, &h, &block.c_fc, Some(self.activation), &mut mlp); // [T, n_inner]
            linear(isa, &mlp, &block.mlp_c_proj, None, &mut delta); // [T, C]
            let next = self.h.get(layer + 1).map_or(&self.ln_f, |next| &next.ln_1);
            next.add_and_forward(&mut x, &delta, &mut h); // x += mlp; h = the next block's ln_1(x), or ln_f(x)
        }
        cache.advance(t);
        Output { hidden: h, rows, value_norms }
    }

    /// `[n_embd] -> [vocab_size]`: one position's hidden state against every token's embedding
    /// (the LM head, `wte` unless the config unties it), one dot product per vocabulary row.
    pub fn logits(&self, isa: Isa, model: &Gpt2, hidden: &[f32]) -> Vec<f32> {
        if let Some(head) = &self.head {
            let mut logits = vec![0.0; head.n_out];
            linear(isa, hidden, head, None, &mut logits); // [C] x [C, V]
            return logits;
        }
        // split over threads by vocabulary rows; dispatched inside each part's closure: a closure
        // is compiled on its own, without the features of a function it is called from
        with_values(model.head(), |head| {
            let c = hidden.len();
            let mut logits = vec![0.0; head.len() / c];
            threads::each(threads::rows(head, c, &mut logits, 1), |(head, logits): (&[f32], &mut [f32])| {
                on_isa!(isa, logits_on, (head: &[f32], hidden: &[f32], logits: &mut [f32]) -> ())
            });
            logits
        })
    }
}

/// `wte[id] + wpe[position]` for `ids` at positions `start..`, `[T, C]`.
fn embed(model: &Gpt2, ids: &[u32], start: usize) -> Vec<f32> {
    let c = model.config.n_embd;
    let mut x = Vec::with_capacity(ids.len() * c);
    with_values(model.embeddings.wte.val(), |wte| {
        with_values(model.embeddings.wpe.val(), |wpe| {
            for (i, &id) in ids.iter().enumerate() {
                let (token, position) = (&wte[id as usize * c..][..c], &wpe[(start + i) * c..][..c]);
                x.extend(token.iter().zip(position).map(|(a, b)| a + b));
            }
        })
    });
    x
}

/// [`Kernels::logits`] for some vocabulary rows, compiled for one variant: `head: [v, C]`,
/// `logits: [v]` (no closure may call the kernels here, see [`Kernels::logits`]).
#[inline(always)]
fn logits_on<L: Lanes>(head: &[f32], hidden: &[f32], logits: &mut [f32]) {
    for (logit, row) in logits.iter_mut().zip(head.chunks_exact(hidden.len())) {
        *logit = dot::<L>(hidden, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn a_loaded_tensor_is_read_where_it_lies() {
        let t = Tensor::<2>::from_data(TensorData::new(vec![1.0f32; 64], [8, 8]), &Device::default());
        let (a, b) = (with_values(t.clone(), |v| v.as_ptr() as usize), with_values(t, |v| v.as_ptr() as usize));
        assert_eq!(a, b, "read without a copy");
    }
}
