//! The two building blocks every GPT-2 part is made of, under GPT-2's own names.

use burn::module::{Module, Param};
use burn::tensor::Tensor;

/// GPT-2's `Conv1D`: a linear map whose weight is stored `[in, out]`, so `y = x W + b` uses it
/// as stored.
#[derive(Module, Debug)]
pub struct Conv1D {
    /// `[in, out]`
    pub weight: Param<Tensor<2>>,
    /// `[out]`
    pub bias: Param<Tensor<1>>,
}

impl Conv1D {
    /// `[T, in] -> [T, out]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.weight.val()) + self.bias.val().unsqueeze::<2>()
    }
}

/// LayerNorm over the last dimension: `(x - mean) / sqrt(var + eps) * weight + bias`, with the
/// biased variance, as PyTorch computes it.
#[derive(Module, Debug)]
pub struct LayerNorm {
    /// `[C]`
    pub weight: Param<Tensor<1>>,
    /// `[C]`
    pub bias: Param<Tensor<1>>,
    pub eps: f32,
}

impl LayerNorm {
    /// `[T, C] -> [T, C]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let (var, mean) = x.clone().var_mean_bias(1); // [T, 1] each
        let normalized = (x - mean) / (var + self.eps).sqrt();
        normalized * self.weight.val().unsqueeze::<2>() + self.bias.val().unsqueeze::<2>()
    }
}
