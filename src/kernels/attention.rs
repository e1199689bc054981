//! Causal self-attention per head, over the lower triangle only: query position `p` scores keys
//! `0..=p` and nothing else, so there is no mask to build and no score to throw away. Each
//! softmax row is computed in place where the capture keeps it ([`Rows`]), and the KV cache
//! is allocated for its whole length once.
//!
//! The scores `Q Kᵀ` are the product's micro-kernel ([`super::gemm`]) with each head's keys as
//! the weight: the cache keeps them transposed in panels of [`NR`] positions, `[D][NR]` each,
//! so a tile of queries meets sixteen keys at a time with no horizontal sums.

use std::ops::Range;

use super::Isa;
use super::gemm::{Tile, pack_rows, tile_rows};
use super::math::{axpy, dot, softmax};
use super::simd::{Lanes, NR};
use super::threads;

/// The keys and values of every position one layer has seen. Room for the whole run is taken
/// once.
#[derive(Debug, Clone, Default)]
pub struct LayerCache {
    /// Per head, `Kᵀ` in panels of [`NR`] positions: `[ceil(T_past / NR)][D][NR]`, zero past
    /// the last position.
    kt: Vec<Vec<f32>>,
    /// `[T_past, C]`: a position's heads side by side, as they leave `c_attn`.
    v: Vec<f32>,
}

impl LayerCache {
    fn with_capacity(n_head: usize, n_embd: usize, positions: usize) -> LayerCache {
        let per_head = positions.next_multiple_of(NR) * n_embd / n_head;
        LayerCache { kt: (0..n_head).map(|_| Vec::with_capacity(per_head)).collect(), v: Vec::with_capacity(positions * n_embd) }
    }

    /// Appends the keys and values of the new positions from `qkv: [T, 3C]`.
    fn extend(&mut self, qkv: &[f32], c: usize) {
        let d = c / self.kt.len();
        for row in qkv.chunks_exact(3 * c) {
            let j = self.v.len() / c; // this position
            let (panel, lane) = (j / NR, j % NR);
            for (kt, k) in self.kt.iter_mut().zip(row[c..2 * c].chunks_exact(d)) {
                if lane == 0 {
                    kt.resize((panel + 1) * d * NR, 0.0);
                }
                for (i, &k) in k.iter().enumerate() {
                    kt[(panel * d + i) * NR + lane] = k;
                }
            }
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
    /// A cache with room for `positions` positions of `n_layer` layers of `n_head` heads,
    /// `n_embd` wide: it never grows (and copies) while a run stays within that.
    pub fn with_capacity(n_layer: usize, n_head: usize, n_embd: usize, positions: usize) -> KvCache {
        KvCache { layers: (0..n_layer).map(|_| LayerCache::with_capacity(n_head, n_embd, positions)).collect(), len: 0 }
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
/// `value_norms: [T][n_layer][n_head]`. Split over [`threads`]: many queries by queries (into
/// runs of about equal keys), one query by heads.
#[allow(clippy::too_many_arguments)]
pub fn causal(isa: Isa, layer: usize, qkv: &[f32], cache: &mut LayerCache, n_head: usize, scale: f32, layout: Rows, rows: &mut [f32], value_norms: &mut [f32], z: &mut [f32]) {
    let (t, c) = (layout.positions, z.len() / layout.positions); // z: [T, C]
    cache.extend(qkv, c);
    let cache = &*cache;
    let parts = threads::count();
    let spans: Vec<Span> = if t == 1 {
        threads::cuts(n_head, parts, |_| 1).windows(2).map(|cut| Span { heads: cut[0]..cut[1], queries: 0..1 }).collect()
    } else {
        threads::cuts(t, parts, |i| layout.first + i + 1).windows(2).map(|cut| Span { heads: 0..n_head, queries: cut[0]..cut[1] }).collect()
    };
    // a span's outputs begin where its first query's first head's do and end where the next span's begin
    let first = |span: &Span| Out::at(layer, n_head, c, layout, span.queries.start, span.heads.start);
    let begins: Vec<Out<usize>> = spans.iter().map(first).collect();
    let outs = threads::split_mut(rows, &begins.iter().map(|b| b.rows).collect::<Vec<_>>())
        .into_iter()
        .zip(threads::split_mut(z, &begins.iter().map(|b| b.z).collect::<Vec<_>>()))
        .zip(threads::split_mut(value_norms, &begins.iter().map(|b| b.norms).collect::<Vec<_>>()));
    let parts = spans.into_iter().zip(begins).zip(outs).map(|((span, begin), ((rows, z), norms))| (span, Out { rows, z, norms }, begin)).collect();
    threads::each(parts, |(span, mut out, begin): (Span, Out<&mut [f32]>, Out<usize>)| {
        let out = &mut out;
        super::on_isa!(isa, causal_on, (layer: usize, qkv: &[f32], cache: &LayerCache, n_head: usize, scale: f32, layout: Rows, span: Span, out: &mut Out<&mut [f32]>, begin: Out<usize>) -> ())
    });
}

/// The heads and new queries one thread computes.
#[derive(Debug, Clone)]
struct Span {
    heads: Range<usize>,
    queries: Range<usize>,
}

/// A span's three outputs ([`causal`]), or where in the whole of each one they begin.
struct Out<T> {
    rows: T,
    z: T,
    norms: T,
}

impl Out<usize> {
    /// Where the outputs of new query `i`, head `h` of `layer` lie.
    fn at(layer: usize, n_head: usize, c: usize, layout: Rows, i: usize, h: usize) -> Out<usize> {
        Out { rows: layout.start(i, layer, h), z: i * c + h * c / n_head, norms: (i * layout.n_layer + layer) * n_head + h }
    }
}

/// [`causal`] for one [`Span`], in the vectors of `L`: `out` holds the span's outputs, which
/// begin at `begin` in the whole of each.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn causal_on<L: Lanes>(layer: usize, qkv: &[f32], cache: &LayerCache, n_head: usize, scale: f32, layout: Rows, span: Span, out: &mut Out<&mut [f32]>, begin: Out<usize>) {
    let c = qkv.len() / layout.positions / 3; // qkv: [T, 3C]
    let d = c / n_head;
    let (i0, t) = (span.queries.start, span.queries.len());
    let stride = (layout.first + span.queries.end).next_multiple_of(NR); // keys, rounded up to whole panels
    let mut q = vec![0.0f32; t * d]; // one head's queries, [t, D]
    let mut packed = vec![0.0f32; t * d]; // the same in groups of MR, [t / MR][D][MR]
    let mut scores = vec![0.0f32; L::MR * stride]; // a group's scores, [MR, keys]
    let zeros = [0.0f32; NR];
    for h in span.heads {
        let (kt, head) = (&cache.kt[h], h * d..(h + 1) * d);
        for (q, qkv) in q.chunks_exact_mut(d).zip(qkv[i0 * 3 * c..].chunks_exact(3 * c)) {
            q.copy_from_slice(&qkv[head.clone()]);
        }
        pack_rows(&q, d, L::MR, &mut packed);
        for g in (0..t).step_by(L::MR) {
            let m = L::MR.min(t - g);
            let keys = layout.first + i0 + g + m; // the group's last query sees keys 0..keys
            for (p, panel) in kt.chunks_exact(d * NR).take(keys.div_ceil(NR)).enumerate() {
                let tile = Tile { panel, bias: &zeros, activation: None, n: stride, width: NR };
                tile_rows::<L>(&tile, m, &packed[g * d..(g + m) * d], &mut scores[p * NR..]); // q · k_j
            }
            for (r, scores) in scores.chunks_exact(stride).take(m).enumerate() {
                let i = i0 + g + r;
                let p = layout.first + i; // this query's position: it sees keys 0..=p
                let at = Out::at(layer, n_head, c, layout, i, h);
                let weights = &mut out.rows[at.rows - begin.rows..][..p + 1]; // [p + 1]
                for (w, s) in weights.iter_mut().zip(scores) {
                    *w = s * scale; // q · k_j / sqrt(D)
                }
                softmax(weights);
                let z = &mut out.z[at.z - begin.z..][..d]; // [D] = Σ_j w_j v_j
                z.fill(0.0);
                for (&w, v) in weights.iter().zip(cache.v.chunks_exact(c)) {
                    axpy::<L>(w, &v[head.clone()], z);
                }
                let v_i = &qkv[i * 3 * c + 2 * c..][head.clone()];
                out.norms[at.norms - begin.norms] = dot::<L>(v_i, v_i).sqrt();
            }
        }
    }
}
