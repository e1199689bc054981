//! Positional encodings compared: how alike the encodings of two positions are, as a
//! position x position map of cosine similarities, for GPT-2's learned `wpe` and for the
//! sinusoidal encoding of the original Transformer at the same size (`n_positions` x `n_embd`).
//!
//! A context of 1024 positions would make a million cells, so the maps sample at most
//! [`SIDE`] positions, evenly spaced from the first; each cell is the exact similarity of its
//! two sampled positions.

use serde::{Deserialize, Serialize};

/// Most positions per side of a similarity map.
pub const SIDE: usize = 64;

/// Cosine similarities between sampled positions of one encoding table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarityMap {
    /// The positions sampled, ascending.
    pub positions: Vec<usize>,
    /// `[positions.len()][positions.len()]`, row-major; symmetric, 1 on the diagonal.
    pub values: Vec<f32>,
}

impl SimilarityMap {
    pub fn side(&self) -> usize {
        self.positions.len()
    }

    pub fn get(&self, a: usize, b: usize) -> f32 {
        self.values[a * self.side() + b]
    }
}

/// At most `side` positions of `0..n`, evenly spaced from 0.
pub fn sampled_positions(n: usize, side: usize) -> Vec<usize> {
    let count = side.min(n);
    (0..count).map(|i| i * n / count).collect()
}

/// The cosine similarity of every pair of sampled rows of `table` (`[n_positions, d]`,
/// row-major). A zero row is similar to nothing (0).
pub fn similarity(table: &[f32], d: usize, side: usize) -> SimilarityMap {
    let n = table.len().checked_div(d).unwrap_or(0);
    let positions = sampled_positions(n, side);
    let rows: Vec<&[f32]> = positions.iter().map(|&p| &table[p * d..(p + 1) * d]).collect();
    let norms: Vec<f64> = rows.iter().map(|r| r.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt()).collect();
    let mut values = Vec::with_capacity(rows.len() * rows.len());
    for (a, ra) in rows.iter().enumerate() {
        for (b, rb) in rows.iter().enumerate() {
            let dot: f64 = ra.iter().zip(rb.iter()).map(|(&x, &y)| x as f64 * y as f64).sum();
            let norm = norms[a] * norms[b];
            values.push(if norm > 0.0 { (dot / norm) as f32 } else { 0.0 });
        }
    }
    SimilarityMap { positions, values }
}

/// One cell of a drawn similarity map.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarityCell {
    /// Positions compared (row, column).
    pub a: usize,
    pub b: usize,
    pub value: f32,
    pub x: f32,
    pub y: f32,
    pub size: f32,
}

/// The cells of `map` drawn in a square of side `size`.
pub fn cells(map: &SimilarityMap, size: f32) -> Vec<SimilarityCell> {
    let side = map.side();
    let unit = if side == 0 { 0.0 } else { size / side as f32 };
    (0..side)
        .flat_map(|i| (0..side).map(move |j| (i, j)))
        .map(|(i, j)| SimilarityCell { a: map.positions[i], b: map.positions[j], value: map.get(i, j), x: j as f32 * unit, y: i as f32 * unit, size: unit })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::embedding::sinusoidal_encoding;

    #[test]
    fn positions_are_sampled_evenly_from_the_first() {
        assert_eq!(sampled_positions(4, 64), [0, 1, 2, 3]);
        assert_eq!(sampled_positions(1024, 64)[..3], [0, 16, 32]);
        assert_eq!(sampled_positions(1024, 64).len(), 64);
        assert_eq!(sampled_positions(10, 4), [0, 2, 5, 7]);
    }

    #[test]
    fn similarity_is_the_cosine_of_the_rows() {
        // rows (1, 0), (1, 1), (0, -2), (0, 0)
        let table = [1.0, 0.0, 1.0, 1.0, 0.0, -2.0, 0.0, 0.0];
        let map = similarity(&table, 2, 64);
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let expected = [[1.0, s, 0.0, 0.0], [s, 1.0, -s, 0.0], [0.0, -s, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]];
        for (a, row) in expected.iter().enumerate() {
            for (b, &want) in row.iter().enumerate() {
                assert!((map.get(a, b) - want).abs() < 1e-6, "({a}, {b}): {}", map.get(a, b));
            }
        }
    }

    #[test]
    fn sinusoidal_similarity_depends_on_the_distance_only() {
        // the encoding's dot product is a sum of cos((p - q) w_i): equal offsets, equal similarity
        let (n, d) = (128, 32);
        let map = similarity(&sinusoidal_encoding(n, d), d, 16);
        assert_eq!(map.positions[1], 8);
        for offset in 1..4 {
            let first = map.get(0, offset);
            for a in 1..16 - offset {
                assert!((map.get(a, a + offset) - first).abs() < 1e-4, "offset {offset} at {a}");
            }
        }
        assert!((map.get(5, 5) - 1.0).abs() < 1e-6);
        assert!(map.get(0, 1) > map.get(0, 8), "nearer positions are more alike");
        let drawn = cells(&map, 160.0);
        assert_eq!(drawn.len(), 256);
        assert_eq!((drawn[17].a, drawn[17].b, drawn[17].x, drawn[17].y, drawn[17].size), (8, 8, 10.0, 10.0, 10.0));
    }
}
