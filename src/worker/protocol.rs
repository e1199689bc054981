//! The messages between the page and the inference worker. Every message about a run carries
//! its run id: the page starts a new run with a higher id and ignores messages of older ones.

use serde::{Deserialize, Serialize};

use crate::analysis::probe::{Answer, Question};
use crate::capture::{pass_norms, pass_rows};
use crate::hub::ModelSource;
use crate::hub::progress::Progress;
use crate::model::generate::Decoding;
use crate::session::{Pass, Stop};
use crate::tokenizer::Token;
use crate::view::positions::SimilarityMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToWorker {
    /// Read a prompt and generate after it; supersedes any run in progress.
    Run(RunRequest),
    /// Stop the run `run` at its next generation step.
    Cancel { run: u32 },
    /// Record `prompt` and the `generated` ids after it in the CLI's `inspect --json` schema.
    Export { prompt: String, generated: Vec<u32>, decoding: Decoding },
    /// Say what loading a model would download (files and sizes), downloading nothing.
    Plan(LoadRequest),
    /// Load a model, replacing the current one once it is built; supersedes a load in progress.
    Load(LoadRequest),
    /// Stop the load in progress; the current model stays.
    CancelLoad,
    /// Answer a question about `ids` that needs a forward pass of its own (predictions, the
    /// logit lens, inside one head, ablation, the repeat test); `id` pairs it with its answer.
    Analyse { id: u32, ids: Vec<u32>, question: Question },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadRequest {
    pub source: ModelSource,
    /// The Hub's base URL (a test override from the page's localStorage, never from a link).
    pub hub: String,
    /// The files the user picked for a local source: `File` objects, passed as they are.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub files: js_sys::Array,
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
    /// Put `<|endoftext|>` before the prompt as a BOS token.
    #[serde(default)]
    pub bos: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub source: ModelSource,
    pub n_layer: usize,
    pub n_head: usize,
    pub n_positions: usize,
}

/// The attention rows of one query position, in the order [`Capture::append_position`] takes:
/// layer after layer, head after head, the weights over keys `0..=position`. They travel as a
/// `Float32Array`, copied once into the page's memory, rather than as an array of numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rows {
    pub position: usize,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub weights: js_sys::Float32Array,
    /// `‖v‖` of this position in every head, `[layer][head]`.
    #[serde(default)]
    pub value_norms: Vec<f32>,
}

impl Rows {
    /// The rows of every position one forward pass read.
    pub fn of_pass(pass: Pass, n_head: usize) -> Vec<Rows> {
        let (first, tq) = (pass.first, pass.positions());
        let (weights, norms) = pass.values();
        (0..tq)
            .map(|i| {
                let rows: Vec<f32> = pass_rows(&weights, n_head, tq, i).flatten().copied().collect();
                Rows { position: first + i, weights: js_sys::Float32Array::from(rows.as_slice()), value_norms: pass_norms(&norms, n_head, tq, i).collect() }
            })
            .collect()
    }
}

/// The model's learned position embeddings and the sinusoidal encoding of the same size,
/// each as a position x position cosine-similarity map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionMaps {
    pub n_positions: usize,
    pub n_embd: usize,
    pub learned: SimilarityMap,
    pub sinusoidal: SimilarityMap,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Finish {
    /// A stop rule held ([`Stop::Cancelled`] when the page cancelled it).
    Stopped(Stop),
    Superseded,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FromWorker {
    /// Loading the model: what is being fetched or built.
    Loading { what: String },
    /// The worker is listening: the page may ask for a model.
    Started,
    /// What loading a source would download; `cached` when it is all stored already.
    Plan { source: ModelSource, files: Vec<(String, Option<u64>)>, cached: bool },
    PlanFailed { source: ModelSource, error: String },
    /// A file arriving.
    Progress(Progress),
    Ready { model: ModelInfo, warnings: Vec<String> },
    LoadFailed { error: String },
    /// The load was cancelled; the model loaded before it (if any) is still there.
    LoadCancelled { model: Option<ModelInfo> },
    /// Sent once after `Ready`.
    Positions(PositionMaps),
    /// The JSON an `Export` asked for, or why it could not be made.
    Exported { json: Result<String, String> },
    /// The attention rows of the prompt positions one forward pass read, of `of` in all; they
    /// come before the `Prompt` message.
    PromptRows { run: u32, of: usize, rows: Vec<Rows> },
    /// The whole prompt is read: its tokens, and how long reading took.
    Prompt { run: u32, tokens: Vec<Token>, millis: f64 },
    /// One generated token and the rows its position added.
    Step { run: u32, token: Token, rows: Rows, millis: f64 },
    Done { run: u32, finish: Finish },
    Failed { run: u32, error: String },
    /// The answer to `Analyse` number `id`, or why there is none.
    Answer { id: u32, answer: Result<Answer, String> },
}
