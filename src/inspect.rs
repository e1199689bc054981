//! The capture schema: what the CLI prints with `--json` and what the app exports. One object
//! per prompt: its tokens, every attention pattern over the prompt, the logits at its last
//! position, and optionally generated ids with the attention rows each step added.
//! Documented in the README; other tools drive the model through it, so fields are only added.

use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
use crate::error::Result;
use crate::model::generate::Decoding;
use crate::session::{Generation, Session, Stop};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub name: String,
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    pub n_positions: usize,
    pub vocab_size: usize,
}

/// The attention rows one generation step added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Position of the generated token in the sequence.
    pub position: usize,
    pub id: u32,
    pub token: String,
    pub text: String,
    /// `[layer][head][key]`, keys `0..=position`.
    pub attentions: Vec<Vec<Vec<f32>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    pub schema: u32,
    pub model: ModelSummary,
    pub prompt: String,
    /// Prompt ids (no BOS).
    pub ids: Vec<u32>,
    /// Vocabulary entries of the prompt ids, as in `tokenizer.json`.
    pub tokens: Vec<String>,
    /// Each prompt id decoded alone.
    pub texts: Vec<String>,
    /// Byte span `[start, end)` of each prompt token in the prompt.
    pub spans: Vec<[usize; 2]>,
    /// `[layer][head][query][key]` over the prompt, zeros above the diagonal.
    pub attentions: Vec<Vec<Vec<Vec<f32>>>>,
    /// All vocabulary logits at the last prompt position.
    pub last_logits: Vec<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoding: Option<Decoding>,
    /// Generated ids; ends with `<|endoftext|>` when the model emitted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Step>>,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Request {
    pub prompt: String,
    /// Tokens to generate after the prompt; 0 runs the prompt only.
    pub generate: usize,
    pub decoding: Decoding,
    /// Include each generation step's attention rows.
    pub steps: bool,
}

/// Runs `request` on `checkpoint` and records everything the schema holds.
pub fn inspect(checkpoint: &Checkpoint, model_name: &str, request: &Request) -> Result<Inspection> {
    let generation = Generation::new(request.decoding, request.generate, Vec::new())?;
    let generation = (request.generate > 0).then_some(generation);
    run(checkpoint, model_name, &request.prompt, generation, request.decoding, request.steps)
}

/// Reads `prompt` and then feeds it the `generated` ids (a run the app showed), and records it
/// as [`inspect`] would have with `steps`.
pub fn replay(checkpoint: &Checkpoint, model_name: &str, prompt: &str, generated: &[u32], decoding: Decoding) -> Result<Inspection> {
    let generation = (!generated.is_empty()).then(|| Generation::replay(decoding, generated)).transpose()?;
    run(checkpoint, model_name, prompt, generation, decoding, true)
}

/// Reads `prompt`, generates after it when there is a `generation`, and records the session.
fn run(checkpoint: &Checkpoint, model_name: &str, prompt: &str, generation: Option<Generation>, decoding: Decoding, steps: bool) -> Result<Inspection> {
    let model = &checkpoint.model;
    let ids = checkpoint.tokenizer.encode(prompt)?;
    let mut session = Session::start(model, &ids, true)?;
    let last_logits = session.last_logits().to_vec();
    let stop = generation.map(|mut generation| generation.run(model, &mut session, |_, _| {})).transpose()?;
    Ok(record(checkpoint, model_name, prompt, &session, last_logits, stop.map(|stop| (decoding, stop)), steps))
}

/// The schema's record of `session`, which read `prompt` (leaving `last_logits`) and, when
/// `generation` says how and why it stopped, generated after it.
fn record(checkpoint: &Checkpoint, model_name: &str, prompt: &str, session: &Session, last_logits: Vec<f32>, generation: Option<(Decoding, Stop)>, steps: bool) -> Inspection {
    let (model, tokenizer) = (&checkpoint.model, &checkpoint.tokenizer);
    let capture = session.capture().expect("capture was asked for");
    let ids = session.ids()[..session.prompt_len()].to_vec();
    let tokens = tokenizer.tokens(&ids);
    let generated = session.generated().to_vec();
    let steps = steps.then(|| {
        (ids.len()..session.ids().len())
            .map(|position| {
                let id = session.ids()[position];
                Step {
                    position,
                    id,
                    token: tokenizer.piece(id),
                    text: tokenizer.decode(&[id]),
                    attentions: capture.step_rows(position),
                }
            })
            .collect()
    });
    let config = &model.config;
    let stop = generation.map(|(_, stop)| stop);
    Inspection {
        schema: SCHEMA_VERSION,
        model: ModelSummary {
            name: model_name.to_string(),
            n_layer: config.n_layer,
            n_head: config.n_head,
            n_embd: config.n_embd,
            n_positions: config.n_positions,
            vocab_size: config.vocab_size,
        },
        prompt: prompt.to_string(),
        tokens: tokens.iter().map(|t| t.piece.clone()).collect(),
        texts: tokens.iter().map(|t| t.text.clone()).collect(),
        spans: tokens.iter().map(|t| [t.span.start, t.span.end]).collect(),
        attentions: capture.nested(ids.len()),
        ids,
        last_logits,
        decoding: generation.map(|(decoding, _)| decoding),
        generated_text: stop.map(|_| tokenizer.decode(&generated)),
        generated: stop.map(|_| generated),
        stop,
        steps,
    }
}
