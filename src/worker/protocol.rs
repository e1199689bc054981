//! The messages between the page and the inference worker. Every message about a run carries
//! its run id: the page starts a new run with a higher id and ignores messages of older ones.

use serde::{Deserialize, Serialize};

use crate::capture::Capture;
use crate::model::generate::Decoding;
use crate::session::Stop;
use crate::tokenizer::Token;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToWorker {
    /// Read a prompt and generate after it; supersedes any run in progress.
    Run(RunRequest),
    /// Stop the run `run` at its next generation step.
    Cancel { run: u32 },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRequest {
    pub run: u32,
    pub prompt: String,
    pub new_tokens: usize,
    pub decoding: Decoding,
    /// Ids to generate instead of sampling (a permalink's text), step by step; the sampler still
    /// draws at each of these steps, so sampling after them continues the original stream.
    pub forced: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub n_layer: usize,
    pub n_head: usize,
    pub n_positions: usize,
}

/// The attention rows of one query position: `layers[l]` holds head after head the weights over
/// keys `0..=position`, the layout [`Capture::append`] takes for one new position.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rows {
    pub position: usize,
    pub layers: Vec<Vec<f32>>,
}

impl Rows {
    pub fn of(capture: &Capture, position: usize) -> Rows {
        let layers = capture.step_rows(position).into_iter().map(|heads| heads.concat()).collect();
        Rows { position, layers }
    }
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Finish {
    Stopped(Stop),
    Cancelled,
    Superseded,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FromWorker {
    /// Loading the model: what is being fetched or built.
    Loading { what: String },
    Ready { model: ModelInfo, warnings: Vec<String> },
    LoadFailed { error: String },
    /// The prompt's tokens and the attention rows of every prompt position.
    Prompt { run: u32, tokens: Vec<Token>, rows: Vec<Rows>, millis: f64 },
    /// One generated token and the rows its position added.
    Step { run: u32, token: Token, rows: Rows, millis: f64 },
    Done { run: u32, finish: Finish },
    Failed { run: u32, error: String },
}
