//! Causal self-attention per head, over the lower triangle only: query position `p` scores keys
//! `0..=p` and nothing else, so there is no mask to build and no score to throw away. Each
//! softmax row is computed in place where the capture keeps it ([`Rows`]), and the KV cache
//! is allocated for its whole length once.

use super::Isa;
use super::math::{axpy, dot, softmax};
use super::simd::Lanes;

/// The keys and values of every position one layer has seen, `[T_past, C]` each: a position's
/// heads side by side, as they leave `c_attn`. Room for the whole run is taken once.
#[derive(Debug, Clone, Default)]
pub struct LayerCache {
    /// `[T_past, C]`
    k: Vec<f32>,
    /// `[T_past, C]`
    v: Vec<f32>,
}

impl LayerCache {
    /// Appends the keys and values of the new positions from `qkv: [T, 3C]`.
    fn extend(&mut self, qkv: &[f32], c: usize) {
        for row in qkv.chunks_exact(3 * c) {
            self.k.extend_from_slice(&row[c..2 * c]);
            self.v.extend_from_slice(&row[2 * c..]);
        }
    }
}

/// Every layer's keys and values.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    pub(super) layers: Vec<LayerCache>,
    len: usize,
}

impl KvCache {
    /// A cache with room for `positions` positions of `n_layer` layers `n_embd` wide: it
    /// never grows (and copies) while a run stays within that.
    pub fn with_capacity(n_layer: usize, n_embd: usize, positions: usize) -> KvCache {
        let layer = || LayerCache { k: Vec::with_capacity(positions * n_embd), v: Vec::with_capacity(positions * n_embd) };
        KvCache { layers: (0..n_layer).map(|_| layer()).collect(), len: 0 }
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn advance(&mut self, t: usize) {
        self.len += t;
    }
}

/// Where a pass's attention rows go: the capture's layout ([`crate::capture::Capture`]), query
/// after query, then layer after layer, head after head, each row over keys `0..=position`.
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    /// The position of the pass's first query.
    pub first: usize,
    /// The pass's new positions, `T`.
    pub positions: usize,
    pub n_layer: usize,
    pub n_head: usize,
}

impl Rows {
    /// Values before new query `i`: `n_layer · n_head · Σ_{i' < i} (first + i' + 1)`.
    pub fn before(&self, i: usize) -> usize {
        self.n_layer * self.n_head * (i * self.first + i * (i + 1) / 2)
    }

    /// Values the whole pass writes.
    pub fn total(&self) -> usize {
        self.before(self.positions)
    }

    /// Where the row of new query `i` in `(layer, head)` starts.
    pub fn start(&self, i: usize, layer: usize, head: usize) -> usize {
        self.before(i) + (layer * self.n_head + head) * (self.first + i + 1)
    }
}

/// One layer's heads for the `T` new positions: `qkv: [T, 3C]` from `c_attn`, its keys and
/// values appended to `cache`; each head's output into `z: [T, C]`, each softmax row into
/// `rows` at `layout`'s place, and `‖v‖` of each new position and head into
/// `value_norms: [T][n_layer][n_head]`.
#[allow(clippy::too_many_arguments)]
pub fn causal(isa: Isa, layer: usize, qkv: &[f32], cache: &mut LayerCache, n_head: usize, scale: f32, layout: Rows, rows: &mut [f32], value_norms: &mut [f32], z: &mut [f32]) {
    super::on_isa!(isa, causal_on, (layer: usize, qkv: &[f32], cache: &mut LayerCache, n_head: usize, scale: f32, layout: Rows, rows: &mut [f32], value_norms: &mut [f32], z: &mut [f32]) -> ())
}

/// [`causal`] in the vectors of `L`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn causal_on<L: Lanes>(layer: usize, qkv: &[f32], cache: &mut LayerCache, n_head: usize, scale: f32, layout: Rows, rows: &mut [f32], value_norms: &mut [f32], z: &mut [f32]) {
    let c = z.len() / layout.positions; // z: [T, C]
    let d = c / n_head;
    cache.extend(qkv, c);
    let (k, v) = (&cache.k, &cache.v); // [Tk, C] each, Tk = first + T
    for (i, (qkv, z)) in qkv.chunks_exact(3 * c).zip(z.chunks_exact_mut(c)).enumerate() {
        let p = layout.first + i; // this query's position: it sees keys 0..=p
        for h in 0..n_head {
            let head = h * d..(h + 1) * d;
            let q = &qkv[head.clone()]; // [D]
            let weights = &mut rows[layout.start(i, layer, h)..][..p + 1]; // [p + 1]
            for (w, k) in weights.iter_mut().zip(k.chunks_exact(c)) {
                *w = dot::<L>(q, &k[head.clone()]) * scale; // q · k_j / sqrt(D)
            }
            softmax(weights);
            let z = &mut z[head.clone()]; // [D] = Σ_j w_j v_j
            z.fill(0.0);
            for (&w, v) in weights.iter().zip(v.chunks_exact(c)) {
                axpy::<L>(w, &v[head.clone()], z);
            }
            let v_p = &qkv[2 * c..][head];
            value_norms[(i * layout.n_layer + layer) * n_head + h] = dot::<L>(v_p, v_p).sqrt();
        }
    }
}
