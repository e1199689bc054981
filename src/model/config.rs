//! `config.json` as Hugging Face writes it for GPT-2, validated into the numbers the model needs.
//!
//! Every field that changes the math is either honoured or refused by name; fields that only
//! matter for training or other heads (dropouts, `summary_*`, `task_specific_params`, ...) are
//! ignored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// A field as written: a value of the type it should have, or whatever else was there (kept,
/// so that [`HfConfig::validate`] can refuse it by name rather than serde refusing the file).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Field<T> {
    Valid(T),
    Invalid(Value),
}

/// `config.json` as Hugging Face's `GPT2Config` writes it: the fields headlight reads, each
/// absent or `null` when not given (then transformers' default applies). Every other field
/// (dropouts, `summary_*`, `task_specific_params`, ...) is ignored. `n_ctx` is the old name of
/// `n_positions`; old configs carry both, so it is its own field, and the two must agree.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HfConfig {
    pub model_type: Option<Value>,
    pub architectures: Option<Field<Vec<Value>>>,
    pub add_cross_attention: Option<Field<bool>>,
    pub vocab_size: Option<Field<u64>>,
    pub n_positions: Option<Field<u64>>,
    pub n_ctx: Option<Field<u64>>,
    pub n_embd: Option<Field<u64>>,
    pub n_layer: Option<Field<u64>>,
    pub n_head: Option<Field<u64>>,
    pub n_inner: Option<Field<u64>>,
    pub activation_function: Option<Field<String>>,
    pub layer_norm_epsilon: Option<Field<f64>>,
    pub scale_attn_weights: Option<Field<bool>>,
    pub scale_attn_by_inverse_layer_idx: Option<Field<bool>>,
    pub tie_word_embeddings: Option<Field<bool>>,
    pub eos_token_id: Option<Field<u64>>,
}

// The largest value headlight accepts for each dimension: far above every published GPT-2
// (gpt2-xl: 48 layers, 25 heads, 1600 wide, 1024 positions, 50257 tokens, MLP 6400), and low
// enough that a crafted config is refused by name before anything is sized from it.
pub const MAX_VOCAB_SIZE: u64 = 1 << 20;
/// Also the cap on `n_ctx`.
pub const MAX_POSITIONS: u64 = 1 << 16;
pub const MAX_EMBD: u64 = 1 << 16;
pub const MAX_LAYERS: u64 = 256;
pub const MAX_HEADS: u64 = 256;
pub const MAX_INNER: u64 = 1 << 18;

/// A dimension from 1 to `cap`, or `None` when not given.
fn optional_count(name: &str, field: &Option<Field<u64>>, cap: u64) -> Result<Option<usize>> {
    let refuse = |v: &dyn std::fmt::Display| Err(Error::config(name, format!("is {v}; it must be a whole number from 1 to {cap}")));
    match field {
        None => Ok(None),
        Some(Field::Valid(n)) if (1..=cap).contains(n) => Ok(Some(*n as usize)),
        Some(Field::Valid(n)) => refuse(n),
        Some(Field::Invalid(v)) => refuse(v),
    }
}

fn count(name: &str, field: &Option<Field<u64>>, cap: u64) -> Result<usize> {
    optional_count(name, field, cap)?.ok_or_else(|| Error::config(name, "is missing"))
}

fn flag(name: &str, field: &Option<Field<bool>>, default: bool) -> Result<bool> {
    match field {
        None => Ok(default),
        Some(Field::Valid(b)) => Ok(*b),
        Some(Field::Invalid(v)) => Err(Error::config(name, format!("is {v}, not true or false"))),
    }
}

impl HfConfig {
    /// Checks every field and turns the file into the numbers the model needs. Each refusal
    /// names its field.
    pub fn validate(&self) -> Result<Gpt2Config> {
        if let Some(model_type) = &self.model_type
            && model_type.as_str() != Some("gpt2")
        {
            return Err(Error::config("model_type", format!("is {model_type}; headlight runs GPT-2 (`gpt2`) checkpoints only")));
        }
        match &self.architectures {
            Some(Field::Valid(names)) if !names.iter().any(|a| matches!(a.as_str(), Some("GPT2LMHeadModel" | "GPT2Model"))) => {
                return Err(Error::config("architectures", format!("is {}; headlight runs GPT2LMHeadModel", Value::Array(names.clone()))));
            }
            Some(Field::Invalid(v)) => return Err(Error::config("architectures", format!("is {v}, not a list of names"))),
            _ => {}
        }
        if flag("add_cross_attention", &self.add_cross_attention, false)? {
            return Err(Error::config("add_cross_attention", "is true: encoder-decoder GPT-2 needs an encoder, which headlight does not have"));
        }
        let vocab_size = count("vocab_size", &self.vocab_size, MAX_VOCAB_SIZE)?;
        let n_positions = match (optional_count("n_positions", &self.n_positions, MAX_POSITIONS)?, optional_count("n_ctx", &self.n_ctx, MAX_POSITIONS)?) {
            (Some(p), Some(c)) if p != c => {
                return Err(Error::config("n_ctx", format!("is {c} but n_positions is {p}; they must agree")));
            }
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => return Err(Error::config("n_positions", "is missing (and so is its old alias n_ctx)")),
        };
        let n_embd = count("n_embd", &self.n_embd, MAX_EMBD)?;
        let n_layer = count("n_layer", &self.n_layer, MAX_LAYERS)?;
        let n_head = count("n_head", &self.n_head, MAX_HEADS)?;
        if n_embd % n_head != 0 {
            return Err(Error::config("n_head", format!("is {n_head}, which does not divide n_embd = {n_embd}")));
        }
        let n_inner = optional_count("n_inner", &self.n_inner, MAX_INNER)?.unwrap_or(4 * n_embd);
        let activation = match &self.activation_function {
            None => Activation::GeluTanh,
            Some(Field::Valid(name)) => Activation::parse(name)
                .ok_or_else(|| Error::config("activation_function", format!("is \"{name}\", which headlight does not implement")))?,
            Some(Field::Invalid(other)) => return Err(Error::config("activation_function", format!("is {other}, not a name"))),
        };
        // checked as the f32 it is used as: 1e46 would be infinite, 1e-50 zero
        let layer_norm_epsilon = match &self.layer_norm_epsilon {
            None => 1e-5,
            Some(Field::Valid(e)) if (*e as f32).is_finite() && *e as f32 > 0.0 => *e as f32,
            Some(Field::Valid(e)) => return Err(Error::config("layer_norm_epsilon", format!("is {e}, not a positive number within f32's range"))),
            Some(Field::Invalid(v)) => return Err(Error::config("layer_norm_epsilon", format!("is {v}, not a positive number within f32's range"))),
        };
        let eos_token_id = match &self.eos_token_id {
            None => 50256,
            Some(Field::Valid(id)) if *id <= u32::MAX as u64 => *id as u32,
            Some(Field::Valid(id)) => return Err(Error::config("eos_token_id", format!("is {id}, not a token id"))),
            Some(Field::Invalid(v)) => return Err(Error::config("eos_token_id", format!("is {v}, not a token id"))),
        };
        Ok(Gpt2Config {
            vocab_size,
            n_positions,
            n_embd,
            n_layer,
            n_head,
            n_inner,
            activation,
            layer_norm_epsilon,
            scale_attn_weights: flag("scale_attn_weights", &self.scale_attn_weights, true)?,
            scale_attn_by_inverse_layer_idx: flag("scale_attn_by_inverse_layer_idx", &self.scale_attn_by_inverse_layer_idx, false)?,
            tie_word_embeddings: flag("tie_word_embeddings", &self.tie_word_embeddings, true)?,
            eos_token_id,
        })
    }
}

impl Gpt2Config {
    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head
    }

    /// What block `layer`'s attention scores are multiplied by: `1/sqrt(head_dim)` (1 where
    /// `scale_attn_weights` is off), and `1/(layer+1)` more where the config asks.
    pub fn attention_scale(&self, layer: usize) -> f32 {
        let mut scale = if self.scale_attn_weights { 1.0 / (self.head_dim() as f32).sqrt() } else { 1.0 };
        if self.scale_attn_by_inverse_layer_idx {
            scale /= (layer + 1) as f32;
        }
        scale
    }

    /// Reads `config.json` through [`HfConfig`] and validates it.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::config("(file)", format!("is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(Error::config("(file)", "is not a JSON object"));
        }
        // Every field is read leniently (see [`Field`]): only `validate` refuses.
        let mirror = HfConfig::deserialize(value).map_err(|e| Error::config("(file)", format!("cannot be read: {e}")))?;
        mirror.validate()
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
    fn every_dimension_has_a_cap_named_in_its_refusal() {
        let with = |field: &str, value: u64| {
            let mut config: serde_json::Map<String, Value> = serde_json::from_str(SMALL).unwrap();
            config.insert(field.into(), value.into());
            parse(&Value::Object(config).to_string())
        };
        for (field, cap) in [
            ("vocab_size", MAX_VOCAB_SIZE),
            ("n_positions", MAX_POSITIONS),
            ("n_ctx", MAX_POSITIONS),
            ("n_embd", MAX_EMBD),
            ("n_layer", MAX_LAYERS),
            ("n_head", MAX_HEADS),
            ("n_inner", MAX_INNER),
        ] {
            for bad in [0, cap + 1, u64::MAX] {
                let e = with(field, bad).unwrap_err();
                assert_eq!(e, Error::config(field, format!("is {bad}; it must be a whole number from 1 to {cap}")), "{field} = {bad}");
            }
        }
        // at the caps themselves, nothing is refused for its size
        let e = with("n_layer", MAX_LAYERS).unwrap();
        assert_eq!(e.n_layer, 256);
        assert_eq!(with("n_inner", MAX_INNER).unwrap().n_inner, 1 << 18);
        assert_eq!(with("vocab_size", MAX_VOCAB_SIZE).unwrap().vocab_size, 1 << 20);
    }

    #[test]
    fn a_crafted_config_is_refused_by_name_before_anything_is_sized_from_it() {
        let crafted = r#"{"vocab_size": 100, "n_positions": 16505437, "n_embd": 1, "n_layer": 16928, "n_head": 1}"#;
        assert_eq!(parse(crafted).unwrap_err().to_string(), "config.json: `n_positions` is 16505437; it must be a whole number from 1 to 65536");
        let crafted = r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 1, "n_layer": 16928, "n_head": 1}"#;
        assert_eq!(parse(crafted).unwrap_err().to_string(), "config.json: `n_layer` is 16928; it must be a whole number from 1 to 256");
    }

    #[test]
    fn unknown_fields_and_nulls_are_ignored_and_types_are_refused_by_name() {
        let c = parse(r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "n_inner": null,
            "activation_function": null, "resid_pdrop": 0.1, "task_specific_params": {"text-generation": {"max_length": 50}},
            "summary_type": "cls_index", "n_ctx": 16, "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}"#)
        .unwrap();
        assert_eq!(c, parse(SMALL).unwrap());
        for (json, message) in [
            (r#"{"vocab_size": 100.5, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2}"#, "config.json: `vocab_size` is 100.5; it must be a whole number from 1 to 1048576"),
            (r#"{"vocab_size": 100, "n_positions": -16, "n_embd": 8, "n_layer": 2, "n_head": 2}"#, "config.json: `n_positions` is -16; it must be a whole number from 1 to 65536"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "activation_function": 3}"#, "config.json: `activation_function` is 3, not a name"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "eos_token_id": 4294967296}"#, "config.json: `eos_token_id` is 4294967296, not a token id"),
            (r#"{"vocab_size": 100, "n_positions": 16, "n_embd": 8, "n_layer": 2, "n_head": 2, "architectures": "GPT2LMHeadModel"}"#, "config.json: `architectures` is \"GPT2LMHeadModel\", not a list of names"),
        ] {
            assert_eq!(parse(json).unwrap_err().to_string(), message, "{json}");
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
