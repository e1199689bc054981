//! The messages between the page and the two workers: the inference worker runs the model, the
//! views worker keeps the captures and answers the page's queries. Every message about a run
//! carries its run id: the page starts a new run with a higher id and ignores messages of older
//! ones. Attention rows go from the inference worker to the views worker over a `MessagePort`
//! of their own; the page never holds them.

use serde::{Deserialize, Serialize};

use crate::analysis::probe::{Answer, Question};
use crate::capture::Capture;
use crate::hub::ModelSource;
use crate::hub::progress::Progress;
use crate::model::generate::Decoding;
use crate::session::{Pass, Stop};
use crate::tokenizer::Token;
use crate::view::positions::SimilarityMap;
use crate::views::query::{Query, Reply, Slot};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToWorker {
    /// Run the kernels on `count` threads (the threaded build; the others run on one). The
    /// page's first message.
    Threads { count: usize },
    /// The port to the views worker, where the attention rows go.
    Connect {
        #[serde(with = "serde_wasm_bindgen::preserve")]
        port: web_sys::MessagePort,
    },
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
    /// How long the worker waits on a silent server, in seconds, when not the default
    /// [`crate::worker::fetch::PATIENCE_S`]: a test override from the page's localStorage.
    pub patience: Option<u32>,
    /// The files the user picked for a local source: `File` objects, passed as they are.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub files: js_sys::Array,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRequest {
    pub run: u32,
    /// Where the views worker keeps its capture.
    pub slot: Slot,
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
    /// The instruction set the kernels run on (`simd128`, `relaxed-simd`).
    pub kernels: String,
    /// The type the kernels keep the blocks' weights in (`f32`, `f16`, `bf16`; `mixed`).
    pub weights: String,
    /// The threads the kernels run on.
    pub threads: usize,
}

impl ModelInfo {
    /// How the model runs, in words: `relaxed-simd kernels on f16 weights, 2 threads`.
    pub fn engine(&self) -> String {
        let threads = if self.threads > 1 { format!(", {} threads", self.threads) } else { String::new() };
        format!("{} kernels on {} weights{threads}", self.kernels, self.weights)
    }
}

/// The attention rows of one query position, in the order [`Capture::append_position`] takes:
/// layer after layer, head after head, the weights over keys `0..=position`. They travel as a
/// `Float32Array`, copied once into the views worker's memory, rather than as an array of numbers.
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
    pub fn of_pass(pass: &Pass) -> Vec<Rows> {
        (0..pass.positions())
            .map(|i| {
                let (rows, value_norms) = pass.position(i);
                Rows { position: pass.first + i, weights: js_sys::Float32Array::from(rows), value_norms: value_norms.to_vec() }
            })
            .collect()
    }

    /// The rows of every position of a capture.
    pub fn of_capture(capture: &Capture) -> Vec<Rows> {
        (0..capture.len())
            .map(|q| {
                let (rows, norms) = capture.position(q);
                Rows { position: q, weights: js_sys::Float32Array::from(&*rows), value_norms: norms.to_vec() }
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
    /// The prompt's tokens, before the model reads them.
    Prompt { run: u32, tokens: Vec<Token> },
    /// The first `positions` of the prompt are read (their rows are with the views worker), in
    /// `millis` so far.
    Read { run: u32, positions: usize, millis: f64 },
    /// One generated token (its rows are with the views worker).
    Step { run: u32, token: Token, millis: f64 },
    Done { run: u32, finish: Finish },
    Failed { run: u32, error: String },
    /// The answer to `Analyse` number `id`, or why there is none.
    Answer { id: u32, answer: Result<Answer, String> },
}

/// What the views worker is told: by the page, its port to the inference worker and the page's
/// queries; by the inference worker, the runs it reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToViews {
    Connect {
        #[serde(with = "serde_wasm_bindgen::preserve")]
        port: web_sys::MessagePort,
    },
    Ask(Query),
    /// Run `run` begins in `slot`, for a model of these dimensions, with its prompt's tokens;
    /// `reserve` positions are expected in all.
    Begin { slot: Slot, run: u32, n_layer: usize, n_head: usize, n_positions: usize, reserve: usize, tokens: Vec<Token> },
    /// Positions read, in order, and the token generated at them (none for the prompt's).
    Rows { slot: Slot, run: u32, rows: Vec<Rows>, token: Option<Token> },
}

/// The views worker's answers, each with its query.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum FromViews {
    /// The views worker is listening: the page may connect it.
    Started,
    Answer { query: Query, reply: Box<Result<Reply, String>> },
}
