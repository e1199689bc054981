//! A runnable checkpoint from the three files a GPT-2 repository holds, as bytes (a download,
//! a file the user picked, or the bundled model): `config.json`, `model.safetensors`,
//! `tokenizer.json`.

use crate::error::{Error, Result};
use crate::kernels::gpt2::Kernels;
use crate::model::config::Gpt2Config;
use crate::tokenizer::Tokenizer;

pub struct Checkpoint {
    /// The model, on the kernels: its weights are held once, in the checkpoint's precision.
    pub model: Kernels,
    pub tokenizer: Tokenizer,
    /// Problems that did not stop loading (unused tensors, non-finite weights).
    pub warnings: Vec<String>,
}

impl Checkpoint {
    /// `weights` is consumed as the model is built (see [`Kernels::load`]).
    pub fn from_bytes(config: &[u8], weights: Vec<u8>, tokenizer: &[u8]) -> Result<Self> {
        Self::with_tokenizer(config, weights, Tokenizer::from_bytes(tokenizer)?)
    }

    /// From a tokenizer built already (from `vocab.json` + `merges.txt`, say).
    pub fn with_tokenizer(config: &[u8], weights: Vec<u8>, tokenizer: Tokenizer) -> Result<Self> {
        let config = Gpt2Config::from_json(config)?;
        if tokenizer.vocab_size() > config.vocab_size {
            return Err(Error::Tokenizer(format!(
                "has {} tokens but the model's vocabulary holds {}: the tokenizer belongs to another model",
                tokenizer.vocab_size(),
                config.vocab_size
            )));
        }
        let loaded = Kernels::load(&config, weights)?;
        Ok(Checkpoint { model: loaded.model, tokenizer, warnings: loaded.warnings })
    }

    pub fn config(&self) -> &Gpt2Config {
        &self.model.config
    }
}
