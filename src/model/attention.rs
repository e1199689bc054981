//! Attention, the way it is taught: one head first (scores, scale, causal mask, softmax,
//! weighted sum of values), then many heads: split the projections, run every head, join them,
//! project back.

use burn::module::Module;
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor, TensorData};

use super::layers::Conv1D;

/// The causal mask for `tq` queries that are the last `tq` of `tk` positions (earlier positions
/// come from the KV cache): `true` where key `j` lies in the future of query `i`, that is
/// `j > (tk - tq) + i`. `[Tq, Tk]`
pub fn causal_mask(tq: usize, tk: usize, device: &Device) -> Tensor<2, Bool> {
    Tensor::<2, Bool>::tril_mask([tq, tk], (tk - tq) as i64, device)
}

/// Scaled dot-product attention with a causal mask, every intermediate kept: the dot products
/// `q kᵀ`, the scores `q kᵀ · scale`, the weights `softmax(mask(scores))` and the output
/// `weights v`. Holding the intermediates costs nothing extra: each is computed anyway, and
/// "inside one head" reads them from here rather than computing them again.
pub struct Attended<const R: usize> {
    /// `[.., Tq, Tk]`
    pub dots: Tensor<R>,
    /// `[.., Tq, Tk]`, before the mask.
    pub scores: Tensor<R>,
    /// `[.., Tq, Tk]`, rows summing to 1.
    pub weights: Tensor<R>,
    /// `[.., Tq, D]`
    pub output: Tensor<R>,
}

/// One head of scaled dot-product attention with a causal mask:
/// `weights = softmax(mask(q kᵀ · scale))`, `output = weights v`.
///
/// `q: [.., Tq, D]`, `k, v: [.., Tk, D]`, with any leading (head) dimensions, which are
/// independent heads run side by side.
pub fn scaled_dot_product_attention<const R: usize>(q: Tensor<R>, k: Tensor<R>, v: Tensor<R>, scale: f32) -> Attended<R> {
    let dims = q.dims();
    let (tq, tk) = (dims[R - 2], k.dims()[R - 2]);
    let dots = q.matmul(k.swap_dims(R - 2, R - 1)); // [.., Tq, Tk]
    let scores = dots.clone() * scale;
    let mut mask_shape = scores.dims();
    mask_shape[R - 2] = tq;
    mask_shape[R - 1] = tk;
    let mask = causal_mask(tq, tk, &scores.device()).unsqueeze::<R>().expand(mask_shape);
    let weights = softmax(scores.clone().mask_fill(mask, f32::NEG_INFINITY), R - 1); // [.., Tq, Tk]
    Attended { dots, scores, output: weights.clone().matmul(v), weights }
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

/// The keys and values of the positions already seen, per layer: `[n_head, T_past, D]` each.
#[derive(Debug, Clone)]
pub struct LayerCache {
    pub k: Tensor<3>,
    pub v: Tensor<3>,
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

/// What an attention layer does beyond the plain forward pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerProbe {
    /// Heads whose output is set to zero before the output projection (zero ablation).
    pub ablate: Vec<usize>,
    /// Keep every intermediate of every head ([`AttentionTrace`]).
    pub trace: bool,
}

/// Every number one attention layer computed, per head, for "inside one head".
pub struct AttentionTrace {
    /// `[H, T, D]`, the new positions' queries.
    pub q: Tensor<3>,
    /// `[H, Tk, D]`, keys and values of every position seen.
    pub k: Tensor<3>,
    pub v: Tensor<3>,
    pub attended: Attended<3>,
}

/// What one attention layer computed for the new positions.
pub struct AttentionOutput {
    /// `[T, C]`, after the output projection.
    pub output: Tensor<2>,
    /// Attention weights `[n_head, T, T_past + T]`.
    pub weights: Tensor<3>,
    /// `‖v‖` of each new position in each head, `[n_head, T]`.
    pub value_norms: Tensor<2>,
    /// With [`LayerProbe::trace`].
    pub trace: Option<AttentionTrace>,
}

impl Attention {
    /// `x: [T, C]` holds the new positions; `cache` the keys and values of earlier ones, and
    /// is extended with the new ones.
    pub fn forward(&self, x: Tensor<2>, cache: &mut Option<LayerCache>, probe: &LayerProbe) -> AttentionOutput {
        let [t, c] = x.dims();
        let qkv = self.c_attn.forward(x); // [T, 3C]
        let q = split_heads(qkv.clone().slice([0..t, 0..c]), self.n_head); // [H, T, D]
        let k = split_heads(qkv.clone().slice([0..t, c..2 * c]), self.n_head); // [H, T, D]
        let v = split_heads(qkv.slice([0..t, 2 * c..3 * c]), self.n_head); // [H, T, D]
        let value_norms = v.clone().powi_scalar(2).sum_dim(2).sqrt().squeeze_dim::<2>(2); // [H, T]
        let (k, v) = match cache.take() {
            Some(past) => (Tensor::cat(vec![past.k, k], 1), Tensor::cat(vec![past.v, v], 1)), // [H, T_past + T, D]
            None => (k, v),
        };
        *cache = Some(LayerCache { k: k.clone(), v: v.clone() });
        let mut attended = scaled_dot_product_attention(q.clone(), k.clone(), v.clone(), self.scale); // [H, T, D], [H, T, Tk]
        if !probe.ablate.is_empty() {
            let keep: Vec<f32> = (0..self.n_head).map(|h| if probe.ablate.contains(&h) { 0.0 } else { 1.0 }).collect();
            let keep = Tensor::<1>::from_data(TensorData::new(keep, [self.n_head]), &attended.output.device()).reshape([self.n_head, 1, 1]);
            attended.output = attended.output * keep; // [H, T, D]
        }
        let output = self.c_proj.forward(merge_heads(attended.output.clone()));
        let weights = attended.weights.clone();
        let trace = probe.trace.then(|| AttentionTrace { q, k, v, attended });
        AttentionOutput { output, weights, value_norms, trace }
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
        let Attended { dots, scores, weights, output: out } = scaled_dot_product_attention(q.clone(), q, v, 1.0 / 2f32.sqrt());
        assert_eq!(values(dots), vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(values(scores), vec![1.0 / 2f32.sqrt(), 0.0, 0.0, 1.0 / 2f32.sqrt()]);
        let weights = values(weights);
        // row 0 sees only key 0; row 1 sees scores [0, 1/sqrt 2]
        let e = (1.0f32 / 2f32.sqrt()).exp();
        let expected = [1.0, 0.0, 1.0 / (1.0 + e), e / (1.0 + e)];
        for (w, x) in weights.iter().zip(expected) {
            assert!((w - x).abs() < 1e-6, "{weights:?}");
        }
        let out = values(out);
        let row1 = [expected[2] * 1.0 + expected[3] * 3.0, expected[2] * 2.0 + expected[3] * 4.0];
        assert_eq!(&out[..2], &[1.0, 2.0]);
        assert!((out[2] - row1[0]).abs() < 1e-6 && (out[3] - row1[1]).abs() < 1e-6);
    }

    #[test]
    fn rows_sum_to_one_and_heads_are_independent() {
        let (h, t, d) = (3, 5, 4);
        let data = |seed: f32| (0..h * t * d).map(|i| (i as f32 * 0.37 + seed).sin() * 3.0).collect::<Vec<_>>();
        let (q, k, v) = (tensor(data(0.1), [h, t, d]), tensor(data(1.3), [h, t, d]), tensor(data(2.9), [h, t, d]));
        let Attended { output: out, weights, .. } = scaled_dot_product_attention(q.clone(), k.clone(), v.clone(), 0.5);
        let weights_all = values(weights);
        for row in weights_all.chunks(t) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        let out_all = values(out);
        for head in 0..h {
            let one = |x: &Tensor<3>| x.clone().slice([head..head + 1, 0..t, 0..d]).reshape([t, d]);
            let Attended { output: out_h, weights: weights_h, .. } = scaled_dot_product_attention(one(&q), one(&k), one(&v), 0.5);
            assert_eq!(values(weights_h), weights_all[head * t * t..(head + 1) * t * t]);
            let out_h = values(out_h);
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
