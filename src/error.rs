//! One error type for everything that can go wrong between bytes on disk and a forward pass.
//! Every message names what it is about (a config field, a tensor, a file) so the UI and the
//! CLI can show it to a person as it is.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `config.json` is unreadable, or a field holds a value headlight cannot run.
    Config { field: String, problem: String },
    /// The safetensors container itself is broken (header, offsets, sizes).
    Safetensors(String),
    /// One tensor is missing, has the wrong shape, or an unsupported dtype.
    Tensor { name: String, problem: String },
    /// `tokenizer.json` cannot be read, or does not match the model.
    Tokenizer(String),
    /// The prompt cannot be run (empty, or longer than the context).
    Prompt(String),
    /// An analysis asked about a layer, head or position the run does not have.
    Analysis(String),
    /// No next token can be chosen (the logits are not numbers).
    Generation(String),
}

impl Error {
    pub fn config(field: &str, problem: impl Into<String>) -> Self {
        Error::Config { field: field.to_string(), problem: problem.into() }
    }

    pub fn tensor(name: &str, problem: impl Into<String>) -> Self {
        Error::Tensor { name: name.to_string(), problem: problem.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { field, problem } => write!(f, "config.json: `{field}` {problem}"),
            Error::Safetensors(problem) => write!(f, "model.safetensors: {problem}"),
            Error::Tensor { name, problem } => write!(f, "model.safetensors: tensor `{name}` {problem}"),
            Error::Tokenizer(problem) => write!(f, "tokenizer.json: {problem}"),
            Error::Prompt(problem) => write!(f, "prompt: {problem}"),
            Error::Analysis(problem) => write!(f, "analysis: {problem}"),
            Error::Generation(problem) => write!(f, "generation: {problem}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
