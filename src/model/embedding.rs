//! Where a token's vector starts: its token embedding plus the embedding of its position.

use burn::module::{Module, Param};
use burn::tensor::{Int, Tensor, TensorData};

#[derive(Module, Debug)]
pub struct Embeddings {
    /// Token embeddings `[vocab_size, n_embd]`; also the LM head when tied.
    pub wte: Param<Tensor<2>>,
    /// Learned position embeddings `[n_positions, n_embd]`.
    pub wpe: Param<Tensor<2>>,
}

impl Embeddings {
    /// `ids` sit at positions `start..start + ids.len()`. Returns `[T, n_embd]`.
    pub fn forward(&self, ids: &[u32], start: usize) -> Tensor<2> {
        let wte = self.wte.val();
        let device = wte.device();
        let ids: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
        let t = ids.len();
        let ids = Tensor::<1, Int>::from_data(TensorData::new(ids, [t]), &device);
        let tokens = wte.select(0, ids); // [T, C]
        let positions = self.wpe.val().slice(start..start + t); // [T, C]
        tokens + positions
    }
}

/// The sinusoidal positional encoding of "Attention Is All You Need" (Vaswani et al. 2017),
/// which GPT-2 replaced by learned `wpe`; kept so the two can be compared side by side.
/// `PE[pos, 2i] = sin(pos / 10000^(2i/d))`, `PE[pos, 2i+1] = cos(pos / 10000^(2i/d))`.
/// Returns `[n_positions * d_model]`, row-major.
pub fn sinusoidal_encoding(n_positions: usize, d_model: usize) -> Vec<f32> {
    let mut table = Vec::with_capacity(n_positions * d_model);
    for pos in 0..n_positions {
        for dim in 0..d_model {
            let pair = (dim / 2) as f64;
            let angle = pos as f64 / 10000f64.powf(2.0 * pair / d_model as f64);
            table.push(if dim % 2 == 0 { angle.sin() } else { angle.cos() } as f32);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinusoidal_matches_the_paper() {
        let d = 4;
        let pe = sinusoidal_encoding(3, d);
        // position 0: sin 0 = 0, cos 0 = 1
        assert_eq!(&pe[0..4], &[0.0, 1.0, 0.0, 1.0]);
        // position 2, dims 2 and 3: angle = 2 / 10000^(2/4) = 0.02
        assert!((pe[2 * d + 2] - 0.02f32.sin()).abs() < 1e-7);
        assert!((pe[2 * d + 3] - 0.02f32.cos()).abs() < 1e-7);
        assert!((pe[d] - 1f32.sin()).abs() < 1e-7);
    }
}
