//! Elementwise and row kernels in f32, branch-free so that a loop over a slice of them becomes
//! vector code. Sums run over [`NR`] partial sums, the way a row of vectors holds them.

use super::simd::{Lanes, NR, Portable};
use crate::model::config::Activation;

/// `Σ a_i b_i`, in the vectors of `L`.
#[inline(always)]
pub fn dot<L: Lanes>(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let (a_chunks, b_chunks) = (a.chunks_exact(NR), b.chunks_exact(NR));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = L::splat(0.0);
    for (a, b) in a_chunks.zip(b_chunks) {
        acc = L::madd(acc, L::load(a), L::load(b));
    }
    L::sum(acc) + tail
}

/// `y += a x`, in the vectors of `L`.
#[inline(always)]
pub fn axpy<L: Lanes>(a: f32, x: &[f32], y: &mut [f32]) {
    let (x_chunks, y_chunks) = (x.chunks_exact(NR), y.chunks_exact_mut(NR));
    for (y, &x) in y_chunks.into_remainder().iter_mut().zip(x_chunks.remainder()) {
        *y += a * x;
    }
    let a_row = L::splat(a);
    for (x, y) in x.chunks_exact(NR).zip(y.chunks_exact_mut(NR)) {
        L::store(L::madd(L::load(y), a_row, L::load(x)), y);
    }
}

/// `Σ x_i`.
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let chunks = x.chunks_exact(NR);
    let tail: f32 = chunks.remainder().iter().sum();
    let (mut acc, one) = (Portable::splat(0.0), Portable::splat(1.0));
    for x in chunks {
        acc = Portable::madd(acc, Portable::load(x), one); // acc + x, exactly
    }
    Portable::sum(acc) + tail
}

/// `e^x` in f32, Cephes' `expf`: `x = n ln 2 + r` with `|r| <= ln 2 / 2`, a degree-6 polynomial
/// for `e^r`, and `2^n` put straight into the exponent bits. Within 2 ulp of `f32::exp` over
/// `[-87, 88]`; arguments outside are clamped there (`e^-87` is 1.6e-38, `e^88` 1.7e38).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    /// Adding and subtracting 1.5 · 2^23 rounds an f32 below 2^22 to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 in two parts, so that `n · LN2_HI` is exact
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5; // Cephes: 5.0000001201e-1, which is 0.5 in f32
    let e_r = p * (r * r) + r + 1.0;
    e_r * f32::from_bits(((n as i32 + 127) as u32) << 23) // · 2^n
}

/// GPT-2's GELU, the tanh approximation (`gelu_new`): `0.5 x (1 + tanh(u))` with
/// `u = sqrt(2/π) (x + 0.044715 x³)`, computed as `x / (1 + e^(-2u))`, the same number
/// (`1 + tanh u = 2 / (1 + e^(-2u))`) without the cancellation of `1 + tanh u` for negative
/// `x`. Within 1e-6 relative of the formula in f64 for `x >= -3`. Below, where `|gelu| < 4e-3`,
/// GELU itself amplifies a relative change of `x` by `|2 x u'(x)|`, over 10 and growing, so
/// rounding `u` to f32 costs more: within 2e-5 relative down to -10, until the result leaves
/// f32's normal range.
#[inline(always)]
pub fn gelu_new(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6; // sqrt(2/π)
    let u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
    x / (1.0 + exp(-2.0 * u))
}

/// `x σ(a x)`: SiLU for `a` = 1, QuickGELU for `a` = 1.702.
#[inline(always)]
fn x_sigmoid(x: f32, a: f32) -> f32 {
    x / (1.0 + exp(-a * x))
}

/// Applies `activation` to every value of `xs`.
#[inline(always)]
pub fn activate(activation: Activation, xs: &mut [f32]) {
    match activation {
        Activation::GeluTanh => xs.iter_mut().for_each(|x| *x = gelu_new(*x)),
        Activation::Gelu => xs.iter_mut().for_each(|x| *x = 0.5 * *x * (1.0 + libm::erff(*x * std::f32::consts::FRAC_1_SQRT_2))),
        Activation::QuickGelu => xs.iter_mut().for_each(|x| *x = x_sigmoid(*x, 1.702)),
        Activation::Relu => xs.iter_mut().for_each(|x| *x = x.max(0.0)),
        Activation::Silu => xs.iter_mut().for_each(|x| *x = x_sigmoid(*x, 1.0)),
    }
}

/// A LayerNorm's parameters (`ln_1`, `ln_2`, `ln_f`).
#[derive(Debug, Clone)]
pub struct Norm {
    /// `[C]`
    pub weight: Vec<f32>,
    /// `[C]`
    pub bias: Vec<f32>,
    pub eps: f32,
}

impl Norm {
    /// `out = (x - mean) / sqrt(var + eps) · weight + bias` for each row of `x: [T, C]`, with the
    /// biased variance, as PyTorch computes it.
    pub fn forward(&self, x: &[f32], out: &mut [f32]) {
        let c = self.weight.len();
        for (x, out) in x.chunks_exact(c).zip(out.chunks_exact_mut(c)) {
            let mean = sum(x) / c as f32;
            for (o, &x) in out.iter_mut().zip(x) {
                *o = x - mean;
            }
            let var = dot::<Portable>(out, out) / c as f32; // Σ (x - mean)² / C
            let inv_std = 1.0 / (var + self.eps).sqrt();
            for ((o, w), b) in out.iter_mut().zip(&self.weight).zip(&self.bias) {
                *o = *o * inv_std * w + b;
            }
        }
    }

    /// The residual connection and the LayerNorm after it in one pass over the rows:
    /// `x += delta`, then `out = self(x)`.
    pub fn add_and_forward(&self, x: &mut [f32], delta: &[f32], out: &mut [f32]) {
        for (x, d) in x.iter_mut().zip(delta) {
            *x += d;
        }
        self.forward(x, out);
    }
}

/// `softmax` of one row in place: `e^(s - max) / Σ e^(s - max)`.
#[inline(always)]
pub fn softmax(row: &mut [f32]) {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
    for s in row.iter_mut() {
        *s = exp(*s - max);
    }
    let total = sum(row);
    for s in row.iter_mut() {
        *s /= total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 200 001 evenly spaced values from `from` to `to`.
    fn sweep(from: f32, to: f32) -> impl Iterator<Item = f32> {
        let steps = 200_000;
        (0..=steps).map(move |i| from + (to - from) * i as f32 / steps as f32)
    }

    #[test]
    fn exp_is_within_two_ulp_of_the_library() {
        for x in sweep(-87.0, 88.0) {
            let (got, want) = (exp(x), (x as f64).exp());
            assert!(((got as f64 - want) / want).abs() < 2.5e-7, "exp({x}) = {got}, want {want}");
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) > 0.0 && exp(1000.0).is_finite());
    }

    #[test]
    fn gelu_new_is_within_1e_6_relative_of_its_formula() {
        let formula = |x: f64| 0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh());
        let sigmoid_form = |x: f64| x / (1.0 + (-2.0 * (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).exp());
        for x in sweep(-10.0, 10.0) {
            let (got, x64) = (gelu_new(x) as f64, x as f64);
            // the tanh form loses every digit to cancellation below x = -4; the sigmoid form
            // is the same function without it
            let want = if x64 > -3.0 { formula(x64) } else { sigmoid_form(x64) };
            assert!((got - formula(x64)).abs() < 1e-6 * formula(x64).abs().max(1.0));
            if want.abs() > f32::MIN_POSITIVE as f64 {
                let bound = if x >= -3.0 { 1e-6 } else { 2e-5 };
                assert!(((got - want) / want).abs() < bound, "gelu_new({x}) = {got}, want {want}");
            }
        }
        assert_eq!(gelu_new(0.0), 0.0);
        assert!(gelu_new(-100.0).abs() < 1e-35); // -100 · e^-88, where the f64 formula gives -0
        assert_eq!(gelu_new(100.0), 100.0);
    }

    #[test]
    fn layer_norm_and_softmax_match_their_definitions() {
        let c = 37;
        let x: Vec<f32> = (0..2 * c).map(|i| ((i * 7919) % 101) as f32 / 10.0 - 5.0).collect();
        let norm = Norm { weight: (0..c).map(|i| 1.0 + i as f32 / 100.0).collect(), bias: (0..c).map(|i| i as f32 / 50.0).collect(), eps: 1e-5 };
        let mut out = vec![0.0; 2 * c];
        norm.forward(&x, &mut out);
        for (row, got) in x.chunks(c).zip(out.chunks(c)) {
            let mean = row.iter().map(|&v| v as f64).sum::<f64>() / c as f64;
            let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / c as f64;
            for i in 0..c {
                let want = (row[i] as f64 - mean) / (var + 1e-5).sqrt() * norm.weight[i] as f64 + norm.bias[i] as f64;
                assert!((got[i] as f64 - want).abs() < 1e-5, "{} vs {want}", got[i]);
            }
        }
        let mut row = [1.0f32, 2.0, -3.0, 0.5];
        let total: f64 = row.iter().map(|&s| (s as f64 - 2.0).exp()).sum();
        let want: Vec<f64> = row.iter().map(|&s| (s as f64 - 2.0).exp() / total).collect();
        softmax(&mut row);
        for (g, w) in row.iter().zip(want) {
            assert!((*g as f64 - w).abs() < 1e-7);
        }
    }

    #[test]
    fn dot_and_sums_match_the_plain_loop() {
        let a: Vec<f32> = (0..77).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..77).map(|i| (i as f32 * 0.11).cos()).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        assert!((dot::<Portable>(&a, &b) as f64 - want).abs() < 1e-5);
        let mut y: Vec<f32> = b.clone();
        axpy::<Portable>(0.5, &a, &mut y);
        for ((y, a), b) in y.iter().zip(&a).zip(&b) {
            assert_eq!(*y, b + 0.5 * a);
        }
        assert!((sum(&a) as f64 - a.iter().map(|&x| x as f64).sum::<f64>()).abs() < 1e-5);
    }
}
