//! GPT-2 checkpoints filled with a fixed pseudo-random pattern, written through the real
//! safetensors writer: for tests that need odd shapes and for benchmarks that need full-size
//! models, so both go through the same loader as a real download.

use crate::model::config::Gpt2Config;
use crate::safetensors::write_f32;

/// `(name, shape, values)` of every tensor in a checkpoint.
pub type Tensors = Vec<(String, Vec<usize>, Vec<f32>)>;

/// GPT-2's parameters for `config`: each name (without prefix) and shape, in `u64` so that a
/// configuration past what memory holds can still be described.
pub fn shapes(config: &Gpt2Config) -> Vec<(String, Vec<u64>)> {
    let [v, p, c, i] = [config.vocab_size, config.n_positions, config.n_embd, config.n_inner].map(|d| d as u64);
    let mut shapes: Vec<(String, Vec<u64>)> = vec![("wte.weight".into(), vec![v, c]), ("wpe.weight".into(), vec![p, c])];
    for l in 0..config.n_layer {
        for (name, shape) in [
            ("ln_1.weight", vec![c]),
            ("ln_1.bias", vec![c]),
            ("attn.c_attn.weight", vec![c, 3 * c]),
            ("attn.c_attn.bias", vec![3 * c]),
            ("attn.c_proj.weight", vec![c, c]),
            ("attn.c_proj.bias", vec![c]),
            ("ln_2.weight", vec![c]),
            ("ln_2.bias", vec![c]),
            ("mlp.c_fc.weight", vec![c, i]),
            ("mlp.c_fc.bias", vec![i]),
            ("mlp.c_proj.weight", vec![i, c]),
            ("mlp.c_proj.bias", vec![c]),
        ] {
            shapes.push((format!("h.{l}.{name}"), shape));
        }
    }
    shapes.push(("ln_f.weight".into(), vec![c]));
    shapes.push(("ln_f.bias".into(), vec![c]));
    shapes
}

/// Every tensor of a GPT-2 with `config`, under `prefix` (`""` or `"transformer."`), with values
/// `scale · sin(...)` of a fixed pattern.
pub fn tensors(config: &Gpt2Config, prefix: &str, scale: f32) -> Tensors {
    shapes(config)
        .into_iter()
        .enumerate()
        .map(|(k, (name, shape))| {
            let shape: Vec<usize> = shape.into_iter().map(|d| usize::try_from(d).expect("a synthetic model's dimensions fit in memory")).collect();
            let n = shape.iter().product::<usize>();
            let values = (0..n).map(|j| scale * ((j * 7 + k * 13) as f32 * 0.61).sin()).collect();
            (format!("{prefix}{name}"), shape, values)
        })
        .collect()
}

/// The safetensors file holding `tensors`.
pub fn file(tensors: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let refs: Vec<(&str, Vec<usize>, &[f32])> = tensors.iter().map(|(n, s, v)| (n.as_str(), s.clone(), v.as_slice())).collect();
    write_f32(&refs)
}
