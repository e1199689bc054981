//! The command line: arguments, loading, output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use headlight::inspect::{Inspection, Request, inspect};
use headlight::model::generate::{Decoding, SamplingSettings};
use headlight::session::Stop;
use headlight::tokenizer::escape_controls;
use headlight::Checkpoint;

#[derive(Parser)]
#[command(name = "headlight-cli", version, about = "Run GPT-2 and show its attention")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a prompt, optionally generate, and print tokens, attention and logits.
    Inspect(InspectArgs),
}

#[derive(Args)]
struct InspectArgs {
    /// Folder with config.json, model.safetensors and tokenizer.json [default: the bundled model]
    #[arg(long)]
    model: Option<PathBuf>,
    /// The text to run
    #[arg(long)]
    prompt: String,
    /// Tokens to generate after the prompt (greedy unless a sampling flag is given)
    #[arg(long, default_value_t = 0)]
    generate: usize,
    /// Print the capture as one JSON object
    #[arg(long)]
    json: bool,
    /// Include the attention rows each generation step added
    #[arg(long)]
    steps: bool,
    /// Sample with this temperature (> 0)
    #[arg(long)]
    temperature: Option<f32>,
    /// Sample from the k most likely tokens only (0: all)
    #[arg(long)]
    top_k: Option<usize>,
    /// Sample from the smallest set of tokens whose probability reaches p, in (0, 1]
    #[arg(long)]
    top_p: Option<f32>,
    /// Seed of the sampling stream
    #[arg(long)]
    seed: Option<u64>,
}

impl InspectArgs {
    fn decoding(&self) -> Decoding {
        if self.temperature.is_none() && self.top_k.is_none() && self.top_p.is_none() && self.seed.is_none() {
            return Decoding::Greedy;
        }
        Decoding::Sample(SamplingSettings {
            temperature: self.temperature.unwrap_or(1.0),
            top_k: self.top_k.unwrap_or(0),
            top_p: self.top_p.unwrap_or(1.0),
            seed: self.seed.unwrap_or(0),
        })
    }
}

mod bundled {
    pub const CONFIG: &[u8] = include_bytes!("../../../public/models/mini/config.json");
    pub const WEIGHTS: &[u8] = include_bytes!("../../../public/models/mini/model.safetensors");
    pub const TOKENIZER: &[u8] = include_bytes!("../../../public/models/mini/tokenizer.json");
}

fn read(dir: &Path, file: &str) -> Result<Vec<u8>, String> {
    let path = dir.join(file);
    std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn load(model: Option<&Path>) -> Result<(Checkpoint, String), String> {
    let Some(dir) = model else {
        let checkpoint = Checkpoint::from_bytes(bundled::CONFIG, bundled::WEIGHTS.to_vec(), bundled::TOKENIZER).map_err(|e| e.to_string())?;
        return Ok((checkpoint, "bundled:mini".into()));
    };
    if dir.join("pytorch_model.bin").exists() && !dir.join("model.safetensors").exists() {
        return Err(format!("{} holds only pytorch_model.bin: headlight never loads pickle files; convert it to model.safetensors", dir.display()));
    }
    let checkpoint = Checkpoint::from_bytes(&read(dir, "config.json")?, read(dir, "model.safetensors")?, &read(dir, "tokenizer.json")?)
        .map_err(|e| e.to_string())?;
    Ok((checkpoint, dir.display().to_string()))
}

/// The readable form: every text from the model, its files or the prompt has its control
/// characters shown, never sent to the terminal.
fn summary(inspection: &Inspection) -> Result<String, String> {
    let mut out = format!("model {} ({} layers x {} heads)\n", escape_controls(&inspection.model.name), inspection.model.n_layer, inspection.model.n_head);
    out += &format!("{} prompt tokens:\n", inspection.ids.len());
    for (i, (id, text)) in inspection.ids.iter().zip(&inspection.texts).enumerate() {
        out += &format!("  {i:>4}  {id:>6}  {}\n", headlight::tokenizer::visible_label(text.as_bytes()));
    }
    let top = headlight::model::generate::candidates(
        &inspection.last_logits,
        &SamplingSettings { temperature: 1.0, top_k: 5, top_p: 1.0, seed: 0 },
    )
    .map_err(|e| e.to_string())?;
    out += "next-token logits, top 5 (softmax over these 5):\n";
    for (id, p) in top {
        out += &format!("  {id:>6}  {:.3}  {:.4}\n", inspection.last_logits[id as usize], p);
    }
    if let (Some(ids), Some(text)) = (&inspection.generated, &inspection.generated_text) {
        out += &format!("generated {} tokens {ids:?}:\n{}\n", ids.len(), escape_controls(text));
    }
    Ok(out)
}

fn run(args: &InspectArgs) -> Result<(), String> {
    let (checkpoint, name) = load(args.model.as_deref())?;
    for warning in &checkpoint.warnings {
        eprintln!("warning: {}", escape_controls(warning));
    }
    let request = Request { prompt: args.prompt.clone(), generate: args.generate, decoding: args.decoding(), steps: args.steps };
    let inspection = inspect(&checkpoint, &name, &request).map_err(|e| e.to_string())?;
    if inspection.stop == Some(Stop::ContextFull) {
        let generated = inspection.generated.as_ref().map_or(0, Vec::len);
        eprintln!(
            "notice: generated {generated} of {} tokens: the context of {} tokens is full",
            args.generate, inspection.model.n_positions
        );
    }
    if args.json {
        let json = serde_json::to_string(&inspection).map_err(|e| format!("cannot write JSON: {e}"))?;
        println!("{json}");
    } else {
        print!("{}", summary(&inspection)?);
    }
    Ok(())
}

pub fn main() -> ExitCode {
    let Command::Inspect(args) = Cli::parse().command;
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {}", escape_controls(&message));
            ExitCode::FAILURE
        }
    }
}
