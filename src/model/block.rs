//! A GPT-2 block: pre-LayerNorm attention and MLP, each added back to the residual stream.
//! `x = x + attn(ln_1(x))`, `x = x + mlp(ln_2(x))`

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::{gelu, relu, sigmoid, silu};

use super::attention::{Attention, LayerCache};
use super::config::Activation;
use super::hooks::Hooks;
use super::layers::{Conv1D, LayerNorm};

/// GPT-2's GELU, the tanh approximation (`gelu_new`):
/// `0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))`.
pub fn gelu_new<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let sqrt_2_over_pi = (2.0f32 / std::f32::consts::PI).sqrt();
    let inner = (x.clone() + x.clone().powi_scalar(3) * 0.044715) * sqrt_2_over_pi;
    x * 0.5 * (inner.tanh() + 1.0)
}

pub fn activate<const D: usize>(activation: Activation, x: Tensor<D>) -> Tensor<D> {
    match activation {
        Activation::GeluTanh => gelu_new(x),
        Activation::Gelu => gelu(x),
        Activation::QuickGelu => x.clone() * sigmoid(x * 1.702),
        Activation::Relu => relu(x),
        Activation::Silu => silu(x),
    }
}

/// The feed-forward half of a block: widen, nonlinearity, project back.
#[derive(Module, Debug)]
pub struct Mlp {
    /// `[C, n_inner]`
    pub c_fc: Conv1D,
    /// `[n_inner, C]`
    pub c_proj: Conv1D,
    #[module(skip)]
    pub activation: Activation,
}

impl Mlp {
    /// `[T, C] -> [T, C]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.c_proj.forward(activate(self.activation, self.c_fc.forward(x))) // via [T, n_inner]
    }
}

#[derive(Module, Debug)]
pub struct Block {
    pub ln_1: LayerNorm,
    pub attn: Attention,
    pub ln_2: LayerNorm,
    pub mlp: Mlp,
}

impl Block {
    /// Block `layer`: `[T, C] -> [T, C]`, the residual stream entering and leaving it passing
    /// through `hooks`.
    pub fn forward(&self, layer: usize, x: Tensor<2>, cache: &mut LayerCache, hooks: &mut dyn Hooks) -> Tensor<2> {
        let x = hooks.resid_pre(layer, x);
        let x = x.clone() + self.attn.forward(layer, self.ln_1.forward(x), cache, hooks);
        let x = x.clone() + self.mlp.forward(self.ln_2.forward(x));
        hooks.resid_post(layer, x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn gelu_new_matches_its_formula() {
        let xs = [-3.0f32, -1.0, -0.1, 0.0, 0.5, 2.0];
        let t = Tensor::<1>::from_data(TensorData::new(xs.to_vec(), [xs.len()]), &Device::default());
        let got = crate::model::f32_values(gelu_new(t));
        for (x, g) in xs.iter().zip(got) {
            let x = *x as f64;
            let want = 0.5 * x * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh());
            assert!((g as f64 - want).abs() < 1e-6, "gelu_new({x}) = {g}, want {want}");
        }
    }
}
