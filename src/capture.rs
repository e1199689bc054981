//! What a forward pass records of attention: for every query position, every layer and every
//! head, the weights over the keys it can see (itself and everything before it).
//!
//! Causal attention never revisits a row: when generation adds a token, the rows of earlier
//! queries stay as they were, and the new position adds one row per layer and head. So one
//! growing store holds the complete pattern at every step of generation: the pattern after step
//! `s` is the first `prompt_len + s` rows.
//!
//! Storage is the lower triangle only: query position `q` keeps `n_layer * n_head * (q + 1)`
//! values, so **the token at position `q` costs `b * n_layer * n_head * (q + 1)` bytes**, with
//! `b` = 4 for exact f32 and 2 for the compact form, and a full context of `n` positions
//! `b * n_layer * n_head * n(n+1)/2` ([`full_context_bytes`]). For GPT-2 small (12 x 12) at 1024
//! tokens: 302 MB exact, 151 MB compact, against 604 MB for a dense `[12][12][1024][1024]` f32
//! array. Sizes are counted in u64 with every step checked: `usize` has 32 bits on wasm32, and
//! a checkpoint's config may claim any dimensions.
//!
//! The compact form keeps each weight `w` (softmax outputs lie in [0, 1]) as the 16-bit integer
//! `round(w * 65535)`, so within 1/131070 ≈ 7.6e-6 of its value. The CLI and the parity tests
//! keep exact f32; the app switches to the compact form when a full context of exact values
//! would pass [`APP_BUDGET_BYTES`] ([`Capture::for_app`]).
use std::borrow::Cow;

/// What the app lets one capture take before it keeps the compact form: a full context of
/// GPT-2 small is 302 MB exact, 151 MB compact.
pub const APP_BUDGET_BYTES: u64 = 256 << 20;

const FIXED16_SCALE: f32 = 65535.0;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Capture {
    n_layer: usize,
    n_head: usize,
    /// Query positions recorded so far.
    len: usize,
    /// Row `q` starts at `n_layer * n_head * q (q + 1) / 2`; within it, head `(layer, head)`
    /// starts at `(layer * n_head + head) * (q + 1)`.
    values: Values,
    /// `‖v_k‖`, the norm of each position's value vector in every head, where recorded:
    /// position `k` starts at `k * n_layer * n_head`, layer after layer, head after head.
    value_norms: Vec<f32>,
}

/// The stored weights, in the layout [`Capture`] describes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Values {
    Exact(Vec<f32>),
    /// `round(w * 65535)`.
    Fixed16(Vec<u16>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Exact(v) => v.len(),
            Values::Fixed16(v) => v.len(),
        }
    }

    fn value_bytes(&self) -> usize {
        match self {
            Values::Exact(_) => 4,
            Values::Fixed16(_) => 2,
        }
    }

    /// Room for `end` values in all: exactly that many, or with the usual amortised growth. A
    /// room this machine cannot address (`None`) or give is not taken: the store then grows
    /// as values arrive.
    fn reserve_to(&mut self, end: Option<usize>, exact: bool) {
        let Some(additional) = end.map(|end| end.saturating_sub(self.len())) else { return };
        let _ = match (self, exact) {
            (Values::Exact(v), true) => v.try_reserve_exact(additional),
            (Values::Exact(v), false) => v.try_reserve(additional),
            (Values::Fixed16(v), true) => v.try_reserve_exact(additional),
            (Values::Fixed16(v), false) => v.try_reserve(additional),
        };
    }

    fn extend(&mut self, weights: &[f32]) {
        match self {
            Values::Exact(v) => v.extend_from_slice(weights),
            Values::Fixed16(v) => v.extend(weights.iter().map(|&w| (w.clamp(0.0, 1.0) * FIXED16_SCALE).round() as u16)),
        }
    }

    fn get(&self, start: usize, len: usize) -> Cow<'_, [f32]> {
        match self {
            Values::Exact(v) => Cow::Borrowed(&v[start..start + len]),
            Values::Fixed16(v) => Cow::Owned(v[start..start + len].iter().map(|&c| c as f32 / FIXED16_SCALE).collect()),
        }
    }
}

/// An empty capture of no layers: what an answer that leaves its capture with the workers holds
/// in its place.
impl Default for Capture {
    fn default() -> Self {
        Capture::new(0, 0)
    }
}

impl Capture {
    /// Exact f32 weights.
    pub fn new(n_layer: usize, n_head: usize) -> Self {
        Capture { n_layer, n_head, len: 0, values: Values::Exact(Vec::new()), value_norms: Vec::new() }
    }

    /// 16-bit weights (within 7.6e-6 of the exact ones), half the memory.
    pub fn compact(n_layer: usize, n_head: usize) -> Self {
        Capture { values: Values::Fixed16(Vec::new()), ..Capture::new(n_layer, n_head) }
    }

    /// The app's capture for a model with `n_positions` of context: exact while a full context
    /// fits in [`APP_BUDGET_BYTES`], compact beyond (and beyond counting).
    pub fn for_app(n_layer: usize, n_head: usize, n_positions: usize) -> Self {
        match full_context_bytes(n_layer as u64, n_head as u64, n_positions as u64) {
            Some(full) if full <= APP_BUDGET_BYTES => Capture::new(n_layer, n_head),
            _ => Capture::compact(n_layer, n_head),
        }
    }

    /// Whether the weights are exact f32 (rather than the compact 16-bit form).
    pub fn is_exact(&self) -> bool {
        matches!(self.values, Values::Exact(_))
    }

    pub fn n_layer(&self) -> usize {
        self.n_layer
    }

    pub fn n_head(&self) -> usize {
        self.n_head
    }

    /// Query positions recorded.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where row `q` starts in the store; `None` when that is past what this machine can address.
    fn row_start(&self, q: usize) -> Option<usize> {
        values_before(self.n_layer as u64, self.n_head as u64, q as u64).and_then(|n| usize::try_from(n).ok())
    }

    /// Makes room for `n` positions in all at once. A run that knows its length never regrows
    /// its store, and a regrowth holds the old and the new store together. A room this machine
    /// cannot address or give is not taken: the store then grows as rows arrive.
    pub fn reserve_positions(&mut self, n: usize) {
        self.values.reserve_to(self.row_start(n), true);
        let norms = n.checked_mul(self.n_layer).and_then(|v| v.checked_mul(self.n_head));
        if let Some(additional) = norms.map(|norms| norms.saturating_sub(self.value_norms.len())) {
            let _ = self.value_norms.try_reserve_exact(additional);
        }
    }

    /// Records `tq` new query positions from one forward pass. `layers[l]` holds that layer's
    /// weights `[n_head, tq, self.len() + tq]`, row-major.
    pub fn append(&mut self, layers: &[Vec<f32>], tq: usize) {
        assert_eq!(layers.len(), self.n_layer, "one weight tensor per layer");
        let tk = self.len + tq;
        debug_assert!(layers.iter().all(|weights| weights.len() == self.n_head * tq * tk));
        self.values.reserve_to(self.row_start(tk), false);
        for i in 0..tq {
            pass_rows(layers, self.n_head, tq, i).for_each(|row| self.values.extend(row));
        }
        self.len = tk;
    }

    /// Records the next position from its weights in the order [`pass_rows`] gives them (layer
    /// after layer, head after head, keys `0..=position`) and its `‖v‖` `[layer][head]`, if any.
    pub fn append_position(&mut self, rows: &[f32], value_norms: &[f32]) {
        let per_position = self.n_layer * self.n_head;
        assert_eq!(rows.len(), per_position * (self.len + 1), "one row per layer and head over keys 0..={}", self.len);
        self.values.extend(rows);
        if value_norms.len() == per_position && self.value_norms.len() == self.len * per_position {
            self.value_norms.extend_from_slice(value_norms);
        }
        self.len += 1;
    }

    /// Records `‖v‖` of the `tq` positions after those already recorded, from one forward
    /// pass: `layers[l]` holds that layer's norms `[n_head, tq]`, row-major.
    pub fn append_value_norms(&mut self, layers: &[Vec<f32>], tq: usize) {
        assert_eq!(layers.len(), self.n_layer, "one norm tensor per layer");
        for i in 0..tq {
            self.value_norms.extend(pass_norms(layers, self.n_head, tq, i));
        }
    }

    /// `‖v_k‖` of one head for keys `0..n`; `None` unless all of them were recorded.
    pub fn value_norms(&self, layer: usize, head: usize, n: usize) -> Option<Vec<f32>> {
        let per_position = self.n_layer * self.n_head;
        (self.value_norms.len() >= n * per_position)
            .then(|| (0..n).map(|k| self.value_norms[k * per_position + layer * self.n_head + head]).collect())
    }

    /// The weights of query `q` over keys `0..=q`.
    pub fn row(&self, layer: usize, head: usize, q: usize) -> Cow<'_, [f32]> {
        assert!(layer < self.n_layer && head < self.n_head && q < self.len, "row ({layer}, {head}, {q}) outside the capture");
        let start = self.row_start(q).expect("a recorded row starts inside the store") + (layer * self.n_head + head) * (q + 1);
        self.values.get(start, q + 1)
    }

    /// The first `n` rows as a dense `[n][n]` matrix, zeros above the diagonal.
    pub fn pattern(&self, layer: usize, head: usize, n: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|q| {
                let mut row = self.row(layer, head, q).to_vec();
                row.resize(n, 0.0);
                row
            })
            .collect()
    }

    /// `[layer][head][query][key]` for the first `n` positions, the nesting the JSON uses.
    pub fn nested(&self, n: usize) -> Vec<Vec<Vec<Vec<f32>>>> {
        (0..self.n_layer).map(|l| (0..self.n_head).map(|h| self.pattern(l, h, n)).collect()).collect()
    }

    /// Everything position `q` added, as [`Capture::append_position`] takes it: its rows (layer
    /// after layer, head after head) and its `‖v‖` `[layer][head]` (empty where not recorded).
    pub fn position(&self, q: usize) -> (Cow<'_, [f32]>, &[f32]) {
        assert!(q < self.len, "position {q} outside the capture");
        let per_position = self.n_layer * self.n_head;
        let rows = self.values.get(self.row_start(q).expect("a recorded row starts inside the store"), per_position * (q + 1));
        (rows, self.value_norms.get(q * per_position..(q + 1) * per_position).unwrap_or_default())
    }

    /// `[layer][head][key]`: the rows query `q` added (its generation step).
    pub fn step_rows(&self, q: usize) -> Vec<Vec<Vec<f32>>> {
        (0..self.n_layer).map(|l| (0..self.n_head).map(|h| self.row(l, h, q).to_vec()).collect()).collect()
    }

    /// Bytes held by the stored values.
    pub fn bytes(&self) -> usize {
        self.values.len() * self.values.value_bytes() + self.value_norms.len() * 4
    }
}

/// Values stored before query position `q`'s rows: `n_layer * n_head * q(q+1)/2`; `None` past
/// u64.
pub fn values_before(n_layer: u64, n_head: u64, q: u64) -> Option<u64> {
    n_layer.checked_mul(n_head)?.checked_mul(q.checked_mul(q.checked_add(1)?)? / 2)
}

/// Bytes of a full context of `n_positions` as exact f32 (half that compact); `None` past u64.
pub fn full_context_bytes(n_layer: u64, n_head: u64, n_positions: u64) -> Option<u64> {
    values_before(n_layer, n_head, n_positions)?.checked_mul(4)
}

/// The weights query `i` of a forward pass over `tq` new positions adds, in the order a capture
/// stores a position: layer after layer, head after head, its row over keys `0..=past + i`.
/// `layers[l]` is that layer's `[n_head, tq, past + tq]`, row-major.
pub fn pass_rows(layers: &[Vec<f32>], n_head: usize, tq: usize, i: usize) -> impl Iterator<Item = &[f32]> {
    layers.iter().flat_map(move |weights| {
        let tk = weights.len() / (n_head * tq);
        let q = tk - tq + i; // the query's position: keys 0..=q
        (0..n_head).map(move |head| {
            let row = (head * tq + i) * tk;
            &weights[row..row + q + 1]
        })
    })
}

/// `‖v‖` of query `i` of a forward pass over `tq` new positions, `[layer][head]`, from each
/// layer's `[n_head, tq]`.
pub fn pass_norms(layers: &[Vec<f32>], n_head: usize, tq: usize, i: usize) -> impl Iterator<Item = f32> {
    layers.iter().flat_map(move |norms| (0..n_head).map(move |head| norms[head * tq + i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_later_steps_append_without_touching_earlier_ones() {
        // 1 layer, 2 heads; prefill 2 positions, then one generated position.
        let mut c = Capture::new(1, 2);
        // weights [2 heads, 2 queries, 2 keys]
        c.append(&[vec![1.0, 0.0, 0.3, 0.7, /* head 1 */ 1.0, 0.0, 0.6, 0.4]], 2);
        let before = c.pattern(0, 1, 2);
        c.append(&[vec![0.2, 0.3, 0.5, /* head 1 */ 0.1, 0.1, 0.8]], 1);
        assert_eq!(c.len(), 3);
        assert_eq!(*c.row(0, 0, 1), [0.3, 0.7]);
        assert_eq!(*c.row(0, 1, 2), [0.1, 0.1, 0.8]);
        assert_eq!(c.pattern(0, 1, 2), before);
        assert_eq!(c.pattern(0, 0, 3), vec![vec![1.0, 0.0, 0.0], vec![0.3, 0.7, 0.0], vec![0.2, 0.3, 0.5]]);
        assert_eq!(c.bytes(), (1 + 2 + 3) * 2 * 4);
        assert_eq!(c.bytes() as u64, full_context_bytes(1, 2, 3).unwrap());
    }

    #[test]
    fn the_compact_form_keeps_every_weight_within_its_bound_in_half_the_bytes() {
        let weights: Vec<f32> = (0..3 * 6).map(|i| ((i * 37 % 101) as f32 / 100.0).powi(3)).collect();
        let layers = [weights.clone(), weights.iter().rev().copied().collect()];
        let (mut exact, mut compact) = (Capture::new(2, 3), Capture::compact(2, 3));
        for c in [&mut exact, &mut compact] {
            c.append(&[layers[0][..3].to_vec(), layers[1][..3].to_vec()], 1); // [3 heads, 1, 1]
            c.append(&[layers[0][..6].to_vec(), layers[1][..6].to_vec()], 1); // [3 heads, 1, 2]
        }
        assert!(exact.is_exact() && !compact.is_exact());
        assert_eq!(compact.bytes() * 2, exact.bytes());
        for (l, h, q) in (0..2).flat_map(|l| (0..3).flat_map(move |h| (0..2).map(move |q| (l, h, q)))) {
            for (a, b) in exact.row(l, h, q).iter().zip(compact.row(l, h, q).iter()) {
                assert!((a - b).abs() <= 0.5 / 65535.0 + 1e-7, "({l}, {h}, {q}): {a} kept as {b}");
            }
        }
        assert_eq!(compact.row(0, 0, 0)[0], weights[0].clamp(0.0, 1.0));
    }

    #[test]
    fn the_app_keeps_exact_weights_while_a_full_context_fits_its_budget() {
        assert!(Capture::for_app(4, 4, 256).is_exact()); // the bundled model: 2.1 MB
        assert!(!Capture::for_app(12, 12, 1024).is_exact()); // GPT-2 small: 302 MB
    }
}
