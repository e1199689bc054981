//! Attention, the way it is taught: one head first (scores, scale, causal mask, softmax,
//! weighted sum of values), then many heads: split the projections, run every head, join them,
//! project back.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor};

use super::hooks::Hooks;
use super::layers::Conv1D;

/// The causal mask for `tq` queries that are the last `tq` of `tk` positions (earlier positions
/// come from the KV cache): `true` where key `j` lies in the future of query `i`, that is
/// `j > (tk - tq) + i`. `[Tq, Tk]`
pub fn causal_mask(tq: usize, tk: usize, device: &Device) -> Tensor<2, Bool> {
    Tensor::<2, Bool>::tril_mask([tq, tk], (tk - tq) as i64, device)
}

/// The attention pattern of one head: `softmax(mask(q kᵀ · scale))`, rows summing to 1.
///
/// `q: [.., Tq, D]`, `k: [.., Tk, D]` -> `[.., Tq, Tk]`, with any leading (head) dimensions,
/// which are independent heads run side by side. The head's output is `pattern v`.
pub fn attention_pattern<const R: usize>(q: Tensor<R>, k: Tensor<R>, scale: f32) -> Tensor<R> {
    let (tq, tk) = (q.dims()[R - 2], k.dims()[R - 2]);
    let scores = q.matmul(k.swap_dims(R - 2, R - 1)) * scale; // [.., Tq, Tk]
    let mut mask_shape = scores.dims();
    mask_shape[R - 2] = tq;
    mask_shape[R - 1] = tk;
    let mask = causal_mask(tq, tk, &scores.device()).unsqueeze::<R>().expand(mask_shape);
    softmax(scores.mask_fill(mask, f32::NEG_INFINITY), R - 1) // [.., Tq, Tk]
}

/// `[T, n_head * D] -> [n_head, T, D]`
pub fn split_heads(x: Tensor<2>, n_head: usize) -> Tensor<3> {
    let [t, c] = x.dims();
    x.reshape([t, n_head, c / n_head]).swap_dims(0, 1)
}

/// `[n_head, T, D] -> [T, n_head * D]`, the inverse of [`split_heads`].
pub fn merge_heads(x: Tensor<3>) -> Tensor<2> {
    let [h, t, d] = x.dims();
    x.swap_dims(0, 1).reshape([t, h * d])
}

/// The keys and values of the positions already seen by one layer: `[n_head, T_past, D]` each.
#[derive(Debug, Clone, Default)]
pub struct LayerCache {
    kv: Option<(Tensor<3>, Tensor<3>)>,
}

impl LayerCache {
    /// Adds the new positions' keys and values `[H, T, D]`; returns those of every position
    /// seen, `[H, T_past + T, D]` each.
    fn extend(&mut self, k: Tensor<3>, v: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let (k, v) = match self.kv.take() {
            Some((past_k, past_v)) => (Tensor::cat(vec![past_k, k], 1), Tensor::cat(vec![past_v, v], 1)), // [H, T_past + T, D]
            None => (k, v),
        };
        self.kv = Some((k.clone(), v.clone()));
        (k, v)
    }
}

/// Multi-head causal self-attention (`attn` in a GPT-2 block).
#[derive(Module, Debug)]
pub struct Attention {
    /// Q, K and V projections in one: `[C, 3C]`.
    pub c_attn: Conv1D,
    /// Output projection `[C, C]`.
    pub c_proj: Conv1D,
    pub n_head: usize,
    /// Multiplies the scores: `1/sqrt(head_dim)` (and `1/(layer+1)` where the config asks).
    pub scale: f32,
}

impl Attention {
    /// `x: [T, C]` holds the new positions of layer `layer`; `cache` the keys and values of
    /// earlier ones, and is extended with the new ones. `q`, `k`, `v`, the pattern and `z` pass
    /// through `hooks`.
    pub fn forward(&self, layer: usize, x: Tensor<2>, cache: &mut LayerCache, hooks: &mut dyn Hooks) -> Tensor<2> {
        let [t, c] = x.dims();
        let qkv = self.c_attn.forward(x); // [T, 3C]
        let q = hooks.q(layer, split_heads(qkv.clone().slice([0..t, 0..c]), self.n_head)); // [H, T, D]
        let k = hooks.k(layer, split_heads(qkv.clone().slice([0..t, c..2 * c]), self.n_head)); // [H, T, D]
        let v = hooks.v(layer, split_heads(qkv.slice([0..t, 2 * c..3 * c]), self.n_head)); // [H, T, D]
        let (k, v) = cache.extend(k, v); // [H, Tk, D], Tk = T_past + T
        let pattern = hooks.pattern(layer, attention_pattern(q, k, self.scale)); // [H, T, Tk]
        let z = hooks.z(layer, pattern.matmul(v)); // [H, T, D]
        self.c_proj.forward(merge_heads(z)) // [T, C]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn tensor<const R: usize>(values: Vec<f32>, shape: [usize; R]) -> Tensor<R> {
        Tensor::from_data(TensorData::new(values, shape), &Device::default())
    }

    fn values<const R: usize>(t: Tensor<R>) -> Vec<f32> {
        crate::model::f32_values(t)
    }

    #[test]
    fn mask_hides_the_future() {
        let mask = values(causal_mask(3, 3, &Device::default()).float());
        assert_eq!(mask, vec![0., 1., 1., 0., 0., 1., 0., 0., 0.]);
        // two new queries after two cached positions: each sees everything up to itself
        let mask = values(causal_mask(2, 4, &Device::default()).float());
        assert_eq!(mask, vec![0., 0., 0., 1., 0., 0., 0., 0.]);
    }

    #[test]
    fn one_head_by_hand() {
        // q = k = [[1, 0], [0, 1]], v = [[1, 2], [3, 4]], scale 1/sqrt(2)
        let q = tensor(vec![1., 0., 0., 1.], [2, 2]);
        let v = tensor(vec![1., 2., 3., 4.], [2, 2]);
        let weights = attention_pattern(q.clone(), q, 1.0 / 2f32.sqrt());
        let out = values(weights.clone().matmul(v));
        let weights = values(weights);
        // row 0 sees only key 0; row 1 sees scores [0, 1/sqrt 2]
        let e = (1.0f32 / 2f32.sqrt()).exp();
        let expected = [1.0, 0.0, 1.0 / (1.0 + e), e / (1.0 + e)];
        for (w, x) in weights.iter().zip(expected) {
            assert!((w - x).abs() < 1e-6, "{weights:?}");
        }
        let row1 = [expected[2] * 1.0 + expected[3] * 3.0, expected[2] * 2.0 + expected[3] * 4.0];
        assert_eq!(&out[..2], &[1.0, 2.0]);
        assert!((out[2] - row1[0]).abs() < 1e-6 && (out[3] - row1[1]).abs() < 1e-6);
    }

    #[test]
    fn rows_sum_to_one_and_heads_are_independent() {
        let (h, t, d) = (3, 5, 4);
        let data = |seed: f32| (0..h * t * d).map(|i| (i as f32 * 0.37 + seed).sin() * 3.0).collect::<Vec<_>>();
        let (q, k, v) = (tensor(data(0.1), [h, t, d]), tensor(data(1.3), [h, t, d]), tensor(data(2.9), [h, t, d]));
        let weights = attention_pattern(q.clone(), k.clone(), 0.5);
        let out = weights.clone().matmul(v.clone());
        let weights_all = values(weights);
        for row in weights_all.chunks(t) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        let out_all = values(out);
        for head in 0..h {
            let one = |x: &Tensor<3>| x.clone().slice([head..head + 1, 0..t, 0..d]).reshape([t, d]);
            let weights_h = attention_pattern(one(&q), one(&k), 0.5);
            let out_h = values(weights_h.clone().matmul(one(&v)));
            assert_eq!(values(weights_h), weights_all[head * t * t..(head + 1) * t * t]);
            for (a, b) in out_h.iter().zip(&out_all[head * t * d..(head + 1) * t * d]) {
                assert!((a - b).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn split_and_merge_round_trip() {
        let x = tensor((0..24).map(|i| i as f32).collect(), [4, 6]);
        let heads = split_heads(x.clone(), 3);
        assert_eq!(heads.dims(), [3, 4, 2]);
        // head 1 of position 2 holds columns 2..4 of row 2
        assert_eq!(values(heads.clone().slice([1..2, 2..3, 0..2])), vec![14., 15.]);
        assert_eq!(values(merge_heads(heads)), values(x));
    }
}
