//! A causal attention pattern as a lower triangle: row `q` holds the weights of query `q` over
//! keys `0..=q`. One head's pattern, an aggregate of several, or any transform of them (a word
//! view) all take this shape, so the heatmaps and the token shading read any of them alike.

use crate::capture::Capture;

#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    rows: Vec<Vec<f32>>,
}

impl Pattern {
    /// `rows[q]` must hold `q + 1` weights.
    pub fn from_rows(rows: Vec<Vec<f32>>) -> Self {
        for (q, row) in rows.iter().enumerate() {
            assert_eq!(row.len(), q + 1, "row {q} of a causal pattern holds keys 0..={q}");
        }
        Pattern { rows }
    }

    /// One head's pattern over the first `n` positions of a capture.
    pub fn of_head(capture: &Capture, layer: usize, head: usize, n: usize) -> Self {
        Pattern { rows: (0..n).map(|q| capture.row(layer, head, q).into_owned()).collect() }
    }

    /// Every head of one layer, in head order.
    pub fn of_layer(capture: &Capture, layer: usize, n: usize) -> Vec<Self> {
        (0..capture.n_head()).map(|head| Pattern::of_head(capture, layer, head, n)).collect()
    }

    /// Positions on each axis.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The weights of query `q` over keys `0..=q`.
    pub fn row(&self, q: usize) -> &[f32] {
        &self.rows[q]
    }

    pub fn rows(&self) -> &[Vec<f32>] {
        &self.rows
    }

    /// The weight of query `q` on key `k`; 0 where `k` lies in the future of `q`.
    pub fn get(&self, q: usize, k: usize) -> f32 {
        self.rows[q].get(k).copied().unwrap_or(0.0)
    }

    /// Every weight, row after row.
    pub fn weights(&self) -> impl Iterator<Item = f32> + '_ {
        self.rows.iter().flatten().copied()
    }

    /// The same shape with every weight replaced by `f(q, k, weight)`.
    pub fn map(&self, mut f: impl FnMut(usize, usize, f32) -> f32) -> Self {
        let rows = self.rows.iter().enumerate().map(|(q, row)| row.iter().enumerate().map(|(k, &w)| f(q, k, w)).collect()).collect();
        Pattern { rows }
    }

    /// The same pattern with `f` applied to each row in place.
    pub fn map_rows(mut self, f: impl Fn(&mut [f32])) -> Self {
        self.rows.iter_mut().for_each(|row| f(row));
        self
    }
}
