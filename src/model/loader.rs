//! safetensors bytes into a model: every tensor found by its GPT-2 name ([`Weights`]), its
//! shape checked against the config, in the file's dtype (the file's bytes freed as they are
//! read, see [`crate::safetensors::read`]). Both key layouts are read: current Hugging Face
//! (`transformer.h.0.attn.c_attn.weight`) and the legacy one without the prefix
//! (`h.0.attn.c_attn.weight`). Mask buffers (`attn.bias`, `attn.masked_bias`) are not weights
//! and are skipped.

use std::collections::BTreeMap;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};

use super::attention::Attention;
use super::block::{Block, Mlp};
use super::config::Gpt2Config;
use super::embedding::Embeddings;
use super::gpt2::Gpt2;
use super::layers::{Conv1D, LayerNorm};
use crate::error::{Error, Result};
use crate::safetensors::{SafeTensors, Stored, Values, read};

/// A loaded model and what was odd about its file but did not stop it.
pub struct Loaded<M> {
    pub model: M,
    pub warnings: Vec<String>,
}

/// A checkpoint's tensors, found by their GPT-2 names and taken out one at a time, so that a
/// model built from them holds each tensor's values once: what it has not taken yet, in the
/// file's dtype, and what it has, in its own form. Shared by the burn reference ([`load_gpt2`]) and the
/// kernels ([`crate::kernels::gpt2::Kernels::load`]).
pub struct Weights {
    /// The file's tensors, taken out as the model takes them.
    tensors: BTreeMap<String, Stored>,
    prefix: &'static str,
    /// Tensors that are not part of a GPT-2 LM, for the last warning.
    unused: Vec<String>,
    warnings: Vec<String>,
}

impl Weights {
    /// Reads the tensors a GPT-2 LM with `config` takes from a safetensors file, which it
    /// consumes (see [`read`]). Both key layouts are found.
    pub fn open(config: &Gpt2Config, file: Vec<u8>) -> Result<Weights> {
        let (prefix, names) = {
            let parsed = SafeTensors::parse(&file)?;
            let prefix = if parsed.get("transformer.wte.weight").is_some() {
                "transformer."
            } else if parsed.get("wte.weight").is_some() {
                ""
            } else {
                return Err(Error::tensor("transformer.wte.weight", "is missing (nor is it there as `wte.weight`, the legacy layout)"));
            };
            (prefix, parsed.names().into_iter().map(str::to_string).collect::<Vec<_>>())
        };
        let expected = |name: &str| {
            let name = name.strip_prefix(prefix).unwrap_or(name);
            let block_part = name.strip_prefix("h.").and_then(|rest| rest.split_once('.')).and_then(|(i, part)| {
                (i.parse::<usize>().ok()? < config.n_layer).then_some(part)
            });
            is_ignored(name)
                || matches!(name, "wte.weight" | "wpe.weight" | "ln_f.weight" | "ln_f.bias")
                || name == "lm_head.weight"
                || block_part.is_some_and(|part| {
                    ["ln_1", "ln_2", "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]
                        .iter()
                        .any(|p| part == format!("{p}.weight") || part == format!("{p}.bias"))
                })
        };
        let unused: Vec<String> = names.into_iter().filter(|n| !expected(n)).collect();
        // what the model takes: not the buffers, nor a tied model's copy of its head
        let taken = |name: &str| expected(name) && !is_ignored(name) && (name != "lm_head.weight" || !config.tie_word_embeddings);
        let tensors = read(file, taken)?;
        Ok(Weights { tensors, prefix, unused, warnings: Vec::new() })
    }

    /// The values of `name` (without the `transformer.` prefix), row-major, in the file's dtype,
    /// once its shape is checked against the one the config needs.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> Result<Values> {
        // `lm_head` sits outside `transformer.` in both layouts.
        let key = if name == "lm_head.weight" { name.to_string() } else { format!("{}{name}", self.prefix) };
        let Stored { values, shape: stored } = self.tensors.remove(&key).ok_or_else(|| Error::tensor(&key, "is missing"))?;
        if stored != shape {
            return Err(Error::tensor(&key, format!("has shape {stored:?}; the config needs {shape:?}")));
        }
        let non_finite = (0..values.len()).filter(|&i| !values.at(i).is_finite()).count();
        if non_finite > 0 {
            self.warnings.push(format!("tensor `{key}` holds {non_finite} NaN or infinite values; outputs will be meaningless"));
        }
        Ok(values)
    }

    /// The untied LM head `[vocab_size, n_embd]`, or `None` when the config ties it to `wte`.
    pub fn lm_head(&mut self, config: &Gpt2Config) -> Result<Option<Values>> {
        (!config.tie_word_embeddings).then(|| self.take("lm_head.weight", &[config.vocab_size, config.n_embd])).transpose()
    }

    /// What was odd about the file, once the model has taken its tensors.
    pub fn finish(mut self) -> Vec<String> {
        if !self.unused.is_empty() {
            self.warnings.push(format!("{} tensors are not part of a GPT-2 LM and were not used: {}", self.unused.len(), self.unused.join(", ")));
        }
        self.warnings
    }
}

/// True for names that are buffers or heads a GPT-2 LM does not use.
fn is_ignored(name: &str) -> bool {
    name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias")
}

/// [`Weights`] made into burn parameters.
struct Params {
    weights: Weights,
    device: Device,
}

impl Params {
    fn param<const R: usize>(&mut self, name: &str, shape: [usize; R]) -> Result<Param<Tensor<R>>> {
        let values = self.weights.take(name, &shape)?.into_f32();
        Ok(Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), &self.device)))
    }

    fn conv1d(&mut self, name: &str, n_in: usize, n_out: usize) -> Result<Conv1D> {
        Ok(Conv1D {
            weight: self.param(&format!("{name}.weight"), [n_in, n_out])?,
            bias: self.param(&format!("{name}.bias"), [n_out])?,
        })
    }

    fn layer_norm(&mut self, name: &str, c: usize, eps: f32) -> Result<LayerNorm> {
        Ok(LayerNorm {
            weight: self.param(&format!("{name}.weight"), [c])?,
            bias: self.param(&format!("{name}.bias"), [c])?,
            eps,
        })
    }

    fn block(&mut self, config: &Gpt2Config, i: usize) -> Result<Block> {
        let (c, eps) = (config.n_embd, config.layer_norm_epsilon);
        Ok(Block {
            ln_1: self.layer_norm(&format!("h.{i}.ln_1"), c, eps)?,
            attn: Attention {
                c_attn: self.conv1d(&format!("h.{i}.attn.c_attn"), c, 3 * c)?,
                c_proj: self.conv1d(&format!("h.{i}.attn.c_proj"), c, c)?,
                n_head: config.n_head,
                scale: config.attention_scale(i),
            },
            ln_2: self.layer_norm(&format!("h.{i}.ln_2"), c, eps)?,
            mlp: Mlp {
                c_fc: self.conv1d(&format!("h.{i}.mlp.c_fc"), c, config.n_inner)?,
                c_proj: self.conv1d(&format!("h.{i}.mlp.c_proj"), config.n_inner, c)?,
                activation: config.activation,
            },
        })
    }
}

/// Builds the burn reference from a safetensors file, which it consumes (see [`read`]): its
/// weights in f32.
/// Errors name the tensor at fault.
pub fn load_gpt2(config: &Gpt2Config, file: Vec<u8>, device: &Device) -> Result<Loaded<Gpt2>> {
    let mut w = Params { weights: Weights::open(config, file)?, device: device.clone() };
    let (v, c) = (config.vocab_size, config.n_embd);
    let embeddings = Embeddings { wte: w.param("wte.weight", [v, c])?, wpe: w.param("wpe.weight", [config.n_positions, c])? };
    let h = (0..config.n_layer).map(|i| w.block(config, i)).collect::<Result<Vec<_>>>()?;
    let ln_f = w.layer_norm("ln_f", c, config.layer_norm_epsilon)?;
    let lm_head = w.weights.lm_head(config)?.map(|values| Param::from_tensor(Tensor::from_data(TensorData::new(values.into_f32(), [v, c]), &w.device)));
    Ok(Loaded { model: Gpt2 { embeddings, h, ln_f, lm_head, config: config.clone() }, warnings: w.weights.finish() })
}
