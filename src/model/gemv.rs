//! Matrix-vector products for a single position, the shape of every generation step.
//!
//! burn's ndarray backend multiplies through `matrixmultiply`, which packs the whole right-hand
//! matrix into panels before every product. That pays off when many rows share the packing, but
//! for one row it reads and writes every weight twice more than the product needs: at one
//! position, packing was most of the time of a generation step. These kernels read each weight
//! once, as stored, in the order it lies in memory. They sum in a different order than the
//! packed kernel, so results agree to rounding (the parity tests hold them to PyTorch).

// burn 0.22 marks its ndarray backend deprecated in favour of burn-flex; ndarray is the backend
// this project is built on, so its primitives are used here knowingly.
#![allow(deprecated)]

use burn::tensor::{Tensor, TensorData};
use burn_ndarray::{NdArray, NdArrayTensor};

/// Lanes summed side by side, so the compiler keeps them in one 128-bit vector register (or
/// two) and a dot product is not one long dependent chain.
const LANES: usize = 8;

/// Runs `f` on the row-major values of a 2-D f32 tensor without copying them; `None` when the
/// tensor does not live on the ndarray backend or is not contiguous.
fn with_values<R>(tensor: Tensor<2>, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
    match tensor.try_into_primitive::<NdArray>().ok()? {
        NdArrayTensor::F32(storage) => storage.view().as_slice().map(f),
        _ => None,
    }
}

/// `y = x W + b` for one row `x: [1, in]`, `W: [in, out]` as stored: `y += x_i W_i` over the
/// rows of `W`, four at a time so `y` is loaded and stored once per four rows. `None` when a
/// tensor is not plain ndarray f32 (the caller then multiplies as usual).
pub fn row_times_matrix(x: &Tensor<2>, weight: Tensor<2>, bias: Tensor<1>) -> Option<Tensor<2>> {
    let [_, out] = weight.dims();
    let device = x.device();
    let mut y = bias.into_data().try_into_vec::<f32>().ok()?; // [out]
    with_values(x.clone(), |x| with_values(weight, |w| accumulate_rows(&mut y, x, w)))??;
    Some(Tensor::from_data(TensorData::new(y, [1, out]), &device))
}

/// `y += Σ_i x_i W_i`, `W` row-major with `y.len()` columns.
fn accumulate_rows(y: &mut [f32], x: &[f32], w: &[f32]) {
    let out = y.len();
    let (x4, w4) = (x.chunks_exact(4), w.chunks_exact(4 * out));
    let (x_rest, w_rest) = (x4.remainder(), w4.remainder());
    for (x, w) in x4.zip(w4) {
        let (w0, w) = w.split_at(out);
        let (w1, w) = w.split_at(out);
        let (w2, w3) = w.split_at(out);
        for ((((y, a), b), c), d) in y.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3) {
            *y += x[0] * a + x[1] * b + x[2] * c + x[3] * d;
        }
    }
    for (&x_i, w_i) in x_rest.iter().zip(w_rest.chunks_exact(out)) {
        for (y, &w) in y.iter_mut().zip(w_i) {
            *y += x_i * w;
        }
    }
}

/// `y = x Mᵀ` for one row `x: [1, C]` and `M: [N, C]` as stored (the LM head, `M` = `wte`):
/// one dot product per row of `M`. `None` as for [`row_times_matrix`].
pub fn row_times_transposed(x: &Tensor<2>, matrix: Tensor<2>) -> Option<Tensor<2>> {
    let [n, c] = matrix.dims();
    let device = x.device();
    let y = with_values(x.clone(), |x| with_values(matrix, |m| m.chunks_exact(c).map(|row| dot(x, row)).collect::<Vec<f32>>()))??;
    Some(Tensor::from_data(TensorData::new(y, [1, n]), &device))
}

/// `Σ a_i b_i`, [`LANES`] partial sums at a time.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (a, b) in a_chunks.zip(b_chunks) {
        for k in 0..LANES {
            lanes[k] += a[k] * b[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::f32_values;
    use burn::tensor::Device;

    fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(values, shape), &Device::default())
    }

    /// Values with no pattern a wrong index could hide behind.
    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919 + seed * 104729) % 1013) as f32 / 1013.0 - 0.5).collect()
    }

    #[test]
    fn both_kernels_agree_with_the_packed_product() {
        let (c, out) = (37, 53); // not multiples of the lanes
        let x = tensor(values(c, 1), [1, c]);
        let w = tensor(values(c * out, 2), [c, out]);
        let b = tensor(values(out, 3), [out]);
        let packed = f32_values(x.clone().matmul(w.clone()) + b.clone().unsqueeze::<2>());
        let got = f32_values(row_times_matrix(&x, w.clone(), b).unwrap());
        for (p, g) in packed.iter().zip(&got) {
            assert!((p - g).abs() < 1e-5, "{p} vs {g}");
        }
        let m = tensor(values(out * c, 4), [out, c]);
        let packed = f32_values(x.clone().matmul(m.clone().transpose()));
        let got = f32_values(row_times_transposed(&x, m).unwrap());
        assert_eq!(got.len(), out);
        for (p, g) in packed.iter().zip(&got) {
            assert!((p - g).abs() < 1e-5, "{p} vs {g}");
        }
    }

    #[test]
    fn a_view_that_is_not_contiguous_is_left_to_the_packed_product() {
        let m = tensor(values(6 * 4, 5), [6, 4]).transpose(); // [4, 6], strided
        assert!(with_values(m, |_| ()).is_none());
    }
}
