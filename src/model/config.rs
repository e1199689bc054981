//! `config.json` as Hugging Face writes it for GPT-2, validated into the numbers the model needs.
//!
//! Every field that changes the math is either honoured or refused by name; fields that only
//! matter for training or other heads (dropouts, `summary_*`, `task_specific_params`, ...) are
//! ignored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The MLP's nonlinearity, by its Hugging Face `activation_function` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`: GPT-2's tanh approximation.
    GeluTanh,
    /// `gelu`: the exact form with erf.
    Gelu,
    /// `quick_gelu`: x * sigmoid(1.702 x).
    QuickGelu,
    Relu,
    /// `silu` / `swish`.
    Silu,
}

impl Activation {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Activation::GeluTanh,
            "gelu" => Activation::Gelu,
            "quick_gelu" => Activation::QuickGelu,
            "relu" => Activation::Relu,
            "silu" | "swish" => Activation::Silu,
            _ => return None,
        })
    }
}

/// What a GPT-2 forward pass needs to know, after validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gpt2Config {
    pub vocab_size: usize,
    /// Context length: rows of `wpe`.
    pub n_positions: usize,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
    /// MLP width (`n_inner`, default 4 x n_embd).
    pub n_inner: usize,
    pub activation: Activation,
    pub layer_norm_epsilon: f32,
    /// Divide scores by sqrt(head_dim) (`scale_attn_weights`).
    pub scale_attn_weights: bool,
    /// Also divide scores of layer i by i + 1 (`scale_attn_by_inverse_layer_idx`).
    pub scale_attn_by_inverse_layer_idx: bool,
    /// The LM head is `wte` (true) or a separate `lm_head.weight` (false).
    pub tie_word_embeddings: bool,
    pub eos_token_id: u32,
}

impl Gpt2Config {
    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head
    }

    /// Parses and validates `config.json`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::config("(file)", format!("is not valid JSON: {e}")))?;
        let Value::Object(fields) = value else {
            return Err(Error::config("(file)", "is not a JSON object"));
        };
        Self::from_fields(&fields)
    }

    fn from_fields(fields: &Map<String, Value>) -> Result<Self> {
        if let Some(model_type) = fields.get("model_type")
            && model_type.as_str() != Some("gpt2")
        {
            return Err(Error::config("model_type", format!("is {model_type}; headlight runs GPT-2 (`gpt2`) checkpoints only")));
        }
        if let Some(architectures) = fields.get("architectures").and_then(Value::as_array) {
            let known = ["GPT2LMHeadModel", "GPT2Model"];
            if !architectures.iter().any(|a| a.as_str().is_some_and(|a| known.contains(&a))) {
                return Err(Error::config("architectures", format!("is {}; headlight runs GPT2LMHeadModel", Value::Array(architectures.clone()))));
            }
        }
        if flag(fields, "add_cross_attention", false)? {
            return Err(Error::config("add_cross_attention", "is true: encoder-decoder GPT-2 needs an encoder, which headlight does not have"));
        }

        let n_positions = match (optional_count(fields, "n_positions")?, optional_count(fields, "n_ctx")?) {
            (Some(p), Some(c)) if p != c => {
                return Err(Error::config("n_ctx", format!("is {c} but n_positions is {p}; they must agree")));
            }
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => return Err(Error::config("n_positions", "is missing (and so is its old alias n_ctx)")),
        };
        let n_embd = count(fields, "n_embd")?;
        let n_head = count(fields, "n_head")?;
        if n_embd % n_head != 0 {
            return Err(Error::config("n_head", format!("is {n_head}, which does not divide n_embd = {n_embd}")));
        }
        let n_inner = optional_count(fields, "n_inner")?.unwrap_or(4 * n_embd);
        let activation = match fields.get("activation_function") {
            None | Some(Value::Null) => Activation::GeluTanh,
            Some(Value::String(name)) => Activation::parse(name)
                .ok_or_else(|| Error::config("activation_function", format!("is \"{name}\", which headlight does not implement")))?,
            Some(other) => return Err(Error::config("activation_function", format!("is {other}, not a name"))),
        };
        let layer_norm_epsilon = match fields.get("layer_norm_epsilon") {
            None | Some(Value::Null) => 1e-5,
            // checked as the f32 it is used as: 1e46 would be infinite, 1e-50 zero
            Some(v) => v
                .as_f64()
                .map(|e| e as f32)
                .filter(|e| e.is_finite() && *e > 0.0)
                .ok_or_else(|| Error::config("layer_norm_epsilon", format!("is {v}, not a positive number within f32's range")))?,
        };
        let eos_token_id = match fields.get("eos_token_id") {
            None | Some(Value::Null) => 50256,
            Some(v) => v
                .as_u64()
                .and_then(|id| u32::try_from(id).ok())
                .ok_or_else(|| Error::config("eos_token_id", format!("is {v}, not a token id")))?,
        };
        Ok(Gpt2Config {
            vocab_size: count(fields, "vocab_size")?,
            n_positions,
            n_embd,
            n_layer: count(fields, "n_layer")?,
            n_head,
            n_inner,
            activation,
            layer_norm_epsilon,
            scale_attn_weights: flag(fields, "scale_attn_weights", true)?,
            scale_attn_by_inverse_layer_idx: flag(fields, "scale_attn_by_inverse_layer_idx", false)?,
            tie_word_embeddings: flag(fields, "tie_word_embeddings", true)?,
            eos_token_id,
        })
    }
}

/// No GPT-2 dimension comes near this; bigger values are corrupt configs.
const MAX_DIMENSION: u64 = 1 << 24;

fn optional_count(fields: &Map<String, Value>, name: &str) -> Result<Option<usize>> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=MAX_DIMENSION).contains(&n) => Ok(Some(n as usize)),
            _ => Err(Error::config(name, format!("is {v}; it must be a whole number from 1 to {MAX_DIMENSION}"))),
        },
    }
}

fn count(fields: &Map<String, Value>, name: &str) -> Result<usize> {
    optional_count(fields, name)?.ok_or_else(|| Error::config(name, "is missing"))
}

fn flag(fields: &Map<String, Value>, name: &str, default: bool) -> Result<bool> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(Error::config(name, format!("is {v}, not true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Gpt2Config> {
        Gpt2Config::from_json(json.as_bytes())
    }

    const SMALL: &str = r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2}"#;

    #[test]
    fn defaults_follow_transformers() {
        let c = parse(SMALL).unwrap();
        assert_eq!(c.n_inner, 32);
        assert_eq!(c.activation, Activation::GeluTanh);
        assert_eq!(c.layer_norm_epsilon, 1e-5);
        assert!(c.scale_attn_weights && !c.scale_attn_by_inverse_layer_idx && c.tie_word_embeddings);
        assert_eq!(c.eos_token_id, 50256);
        assert_eq!(c.head_dim(), 4);
    }

    #[test]
    fn n_ctx_is_an_alias_of_n_positions() {
        let c = parse(r#"{"vocab_size": 100, "n_ctx": 32, "n_embd": 8, "n_layer": 2, "n_head": 2}"#).unwrap();
        assert_eq!(c.n_positions, 32);
        let e = parse(r#"{"vocab_size": 100, "n_ctx": 32, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2}"#).unwrap_err();
        assert!(e.to_string().contains("n_ctx"), "{e}");
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 9, "n_layer": 2, "n_head": 2}"#, "n_head"),
            (r#"{"model_type": "llama", "vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2}"#, "model_type"),
            (r#"{"architectures": ["BertModel"], "vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2}"#, "architectures"),
            (r#"{"activation_function": "mish", "vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2}"#, "activation_function"),
            (r#"{"vocab_size": "many", "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2}"#, "vocab_size"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_head": 2}"#, "n_layer"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 0}"#, "n_head"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "scale_attn_weights": "yes"}"#, "scale_attn_weights"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "add_cross_attention": true}"#, "add_cross_attention"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "layer_norm_epsilon": -1}"#, "layer_norm_epsilon"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "layer_norm_epsilon": 1e46}"#, "layer_norm_epsilon"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "layer_norm_epsilon": 1e-50}"#, "layer_norm_epsilon"),
            (r#"[1, 2]"#, "(file)"),
            (r#"{"#, "(file)"),
        ];
        for (json, field) in cases {
            match parse(json) {
                Err(Error::Config { field: f, .. }) => assert_eq!(f, field, "{json}"),
                other => panic!("{json}: expected a refusal naming {field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn honours_math_fields() {
        let c = parse(r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "n_inner": 20,
            "activation_function": "gelu", "scale_attn_weights": false, "scale_attn_by_inverse_layer_idx": true,
            "layer_norm_epsilon": 1e-6, "tie_word_embeddings": false}"#)
        .unwrap();
        assert_eq!(c.n_inner, 20);
        assert_eq!(c.activation, Activation::Gelu);
        assert!(!c.scale_attn_weights && c.scale_attn_by_inverse_layer_idx && !c.tie_word_embeddings);
        assert_eq!(c.layer_norm_epsilon, 1e-6);
    }
}
