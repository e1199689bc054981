//! Small GPT-2 checkpoints built in the test (see `headlight::synthetic`), at unit scale.

use headlight::model::config::Gpt2Config;
pub use headlight::synthetic::Tensors;
#[allow(unused_imports)] // used by some of the test binaries that include this module
pub use headlight::synthetic::file;

/// Every tensor of a GPT-2 with `config`, under `prefix`, filled with a fixed pseudo-random pattern.
pub fn tensors(config: &Gpt2Config, prefix: &str) -> Tensors {
    headlight::synthetic::tensors(config, prefix, 1.0)
}
