//! GPT-2's stack on the kernels, built straight from a checkpoint's tensors ([`Weights`]): the
//! blocks' weights packed once, the embeddings and an untied LM head as [`Table`]s, each in the
//! narrowest type that holds it, so a model is in memory once, and a 16-bit checkpoint stays
//! 16-bit. `x = x + attn(ln_1(x))`, `x = x + mlp(ln_2(x))`, each residual add fused with the
//! LayerNorm that follows it. What a probe reads or edits on the way ([`Probe`]) is where
//! TransformerLens names it.

use super::attention::{self, KvCache, Rows};
use super::gemm::{Packed, Precision, linear};
use super::math::Norm;
use super::table::Table;
use super::Isa;
use crate::error::Result;
use crate::model::config::Gpt2Config;
use crate::model::loader::{Loaded, Weights};

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

/// GPT-2, for the kernels.
#[derive(Debug, Clone)]
pub struct Kernels {
    pub config: Gpt2Config,
    /// `wte`, `[vocab_size, n_embd]`: the token embeddings, and the LM head unless `lm_head`.
    wte: Table,
    /// `wpe`, `[n_positions, n_embd]`.
    wpe: Vec<f32>,
    pub h: Vec<Block>,
    pub ln_f: Norm,
    /// `[vocab_size, n_embd]`, only when `tie_word_embeddings` is false.
    lm_head: Option<Table>,
}

/// What a pass lets a probe see, at TransformerLens's hook points, for its `T` new positions
/// `first..first + T`. A probe that only reads leaves the pass as it is.
pub trait Probe {
    /// `blocks.{layer}.hook_resid_pre`, `x: [T, C]`; `layer == n_layer` is the stream leaving the
    /// last block (`hook_resid_post` of the last layer), before `ln_f`.
    fn resid(&mut self, _layer: usize, _first: usize, _x: &[f32]) {}
    /// Block `layer`'s attention: `qkv: [T, 3C]` as `c_attn` made them (`hook_q`, `hook_k`,
    /// `hook_v`, each head's `D` columns side by side), and `z: [T, C]`, each head's output
    /// before `c_proj` (`hook_z`), which the probe may edit.
    fn attention(&mut self, _layer: usize, _first: usize, _qkv: &[f32], _z: &mut [f32]) {}
}

/// No probe: the plain model.
impl Probe for () {}

/// What one pass computed for its `T` new positions.
pub struct Output {
    /// The residual stream after `ln_f`, `[T, C]`.
    pub hidden: Vec<f32>,
    /// Every layer's and head's softmax rows, in the capture's layout ([`Rows`]).
    pub rows: Vec<f32>,
    /// `‖v‖` per new position, layer and head, `[T][n_layer][n_head]`.
    pub value_norms: Vec<f32>,
}

fn norm(w: &mut Weights, name: &str, c: usize, eps: f32) -> Result<Norm> {
    Ok(Norm { weight: w.take(&format!("{name}.weight"), &[c])?.into_f32(), bias: w.take(&format!("{name}.bias"), &[c])?.into_f32(), eps })
}

/// A `Conv1D`'s `W: [n_in, n_out]` and `b`, packed; the file's values are freed once packed.
fn pack(w: &mut Weights, name: &str, n_in: usize, n_out: usize) -> Result<Packed> {
    let weight = w.take(&format!("{name}.weight"), &[n_in, n_out])?;
    Ok(Packed::new(&weight, &w.take(&format!("{name}.bias"), &[n_out])?.into_f32(), n_in, n_out))
}

impl Kernels {
    /// Builds the model from a safetensors file, which it consumes: each tensor is read in the
    /// file's dtype, then packed (or kept as a [`Table`]) and the file's values freed, one at a
    /// time, so a 16-bit file is never widened whole. Errors name the tensor at fault.
    pub fn load(config: &Gpt2Config, file: Vec<u8>) -> Result<Loaded<Kernels>> {
        let mut w = Weights::open(config, file)?;
        let (v, c, eps) = (config.vocab_size, config.n_embd, config.layer_norm_epsilon);
        let wte = Table::new(w.take("wte.weight", &[v, c])?, c);
        let wpe = w.take("wpe.weight", &[config.n_positions, c])?.into_f32();
        let h = (0..config.n_layer)
            .map(|i| {
                Ok(Block {
                    ln_1: norm(&mut w, &format!("h.{i}.ln_1"), c, eps)?,
                    c_attn: pack(&mut w, &format!("h.{i}.attn.c_attn"), c, 3 * c)?,
                    attn_c_proj: pack(&mut w, &format!("h.{i}.attn.c_proj"), c, c)?,
                    scale: config.attention_scale(i),
                    ln_2: norm(&mut w, &format!("h.{i}.ln_2"), c, eps)?,
                    c_fc: pack(&mut w, &format!("h.{i}.mlp.c_fc"), c, config.n_inner)?,
                    mlp_c_proj: pack(&mut w, &format!("h.{i}.mlp.c_proj"), config.n_inner, c)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ln_f = norm(&mut w, "ln_f", c, eps)?;
        let lm_head = w.lm_head(config)?.map(|head| Table::new(head, c));
        Ok(Loaded { model: Kernels { config: config.clone(), wte, wpe, h, ln_f, lm_head }, warnings: w.finish() })
    }

    /// The type the blocks' products read their weights in: `f32`, `f16`, `bf16`, or `mixed`.
    pub fn precision(&self) -> &'static str {
        let mut each = self.h.iter().flat_map(|b| [&b.c_attn, &b.attn_c_proj, &b.c_fc, &b.mlp_c_proj]).map(Packed::precision);
        let first = each.next().unwrap_or(Precision::F32);
        if each.all(|p| p == first) { first.name() } else { "mixed" }
    }

    /// The learned position embeddings `wpe`, `[n_positions, n_embd]`.
    pub fn wpe(&self) -> &[f32] {
        &self.wpe
    }

    /// Runs `ids` as the positions following those in `cache`, and extends the cache.
    /// The caller keeps `cache.len() + ids.len() <= n_positions`.
    pub fn forward(&self, isa: Isa, ids: &[u32], cache: &mut KvCache) -> Output {
        self.forward_with(isa, ids, cache, &mut ())
    }

    /// [`Kernels::forward`], with `probe` at its hook points.
    pub fn forward_with(&self, isa: Isa, ids: &[u32], cache: &mut KvCache, probe: &mut dyn Probe) -> Output {
        let config = &self.config;
        let (t, c, n_layer, n_head) = (ids.len(), config.n_embd, self.h.len(), config.n_head);
        if cache.layers.len() != n_layer {
            *cache = KvCache::with_capacity(n_layer, n_head, c, config.n_positions);
        }
        let layout = Rows { first: cache.len(), positions: t, n_layer, n_head };
        let first = layout.first;
        let mut x = self.embed(ids, first); // [T, C]
        let mut h = vec![0.0f32; t * c]; // [T, C], a LayerNorm's output
        let mut qkv = vec![0.0f32; t * 3 * c]; // [T, 3C]
        let mut z = vec![0.0f32; t * c]; // [T, C], the heads side by side
        let mut delta = vec![0.0f32; t * c]; // [T, C], what a sublayer adds to x
        let mut mlp = vec![0.0f32; t * config.n_inner]; // [T, n_inner]
        let mut rows = vec![0.0f32; layout.total()];
        let mut value_norms = vec![0.0f32; t * n_layer * n_head];

        probe.resid(0, first, &x);
        self.h[0].ln_1.forward(&x, &mut h); // ln_1(x) of block 0; later ones come with the residual add
        for (layer, (block, layer_cache)) in self.h.iter().zip(&mut cache.layers).enumerate() {
            // x = x + attn(ln_1(x))
            linear(isa, &h, &block.c_attn, None, &mut qkv); // [T, 3C]
            attention::causal(isa, layer, &qkv, layer_cache, n_head, block.scale, layout, &mut rows, &mut value_norms, &mut z); // [T, C]
            probe.attention(layer, first, &qkv, &mut z);
            linear(isa, &z, &block.attn_c_proj, None, &mut delta); // [T, C]
            block.ln_2.add_and_forward(&mut x, &delta, &mut h); // x += attn; h = ln_2(x)
            // x = x + mlp(ln_2(x))
            linear(isa, &h, &block.c_fc, Some(config.activation), &mut mlp); // [T, n_inner]
            linear(isa, &mlp, &block.mlp_c_proj, None, &mut delta); // [T, C]
            let next = self.h.get(layer + 1).map_or(&self.ln_f, |next| &next.ln_1);
            next.add_and_forward(&mut x, &delta, &mut h); // x += mlp; h = the next block's ln_1(x), or ln_f(x)
            probe.resid(layer + 1, first, &x);
        }
        cache.advance(t);
        Output { hidden: h, rows, value_norms }
    }

    /// `[T, n_embd] -> [T, vocab_size]`: hidden states against every token's embedding (the LM
    /// head, `wte` unless the config unties it).
    pub fn logits(&self, isa: Isa, hidden: &[f32]) -> Vec<f32> {
        self.lm_head.as_ref().unwrap_or(&self.wte).products(isa, hidden)
    }

    /// `wte[id] + wpe[position]` for `ids` at positions `start..`, `[T, C]`.
    fn embed(&self, ids: &[u32], start: usize) -> Vec<f32> {
        let c = self.config.n_embd;
        let mut x = self.wpe[start * c..(start + ids.len()) * c].to_vec();
        for (&id, x) in ids.iter().zip(x.chunks_exact_mut(c)) {
            self.wte.add_row(id as usize, x);
        }
        x
    }
}
