//! GPT-2 from its parts, bottom-up like the math: embeddings, attention, blocks, the stack.

pub mod attention;
pub mod block;
pub mod config;
pub mod embedding;
pub mod generate;
pub mod gpt2;
pub mod hooks;
pub mod layers;
pub mod loader;
pub mod reference;

use burn::tensor::Tensor;

/// A tensor's values, row-major. Every tensor in the model is f32.
pub fn f32_values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_into_vec::<f32>().expect("the model computes in f32")
}
