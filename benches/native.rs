//! Native speed of headlight on a GPT-2-small-shaped checkpoint (12 layers, 12 heads, 768 wide,
//! 50257 tokens, random weights written here as safetensors and read back through the real
//! loader): one forward pass over 16, 64, 256 and 1024 tokens with the attention capture on and
//! off, and generation of 64 tokens with the KV cache. Prints a table and writes JSON.
//!
//! `bench/native.sh` runs this beside PyTorch on the same files and prints the ratios. Thread
//! counts come from RAYON_NUM_THREADS and MATMUL_NUM_THREADS, which that script sets.
//!
//! Usage: cargo bench --bench native -- [--dir DIR] [--repeats N]

use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::Device;
use headlight::model::config::Gpt2Config;
use headlight::model::generate::Decoding;
use headlight::model::gpt2::Gpt2;
use headlight::model::loader::load_gpt2;
use headlight::rng::Rng;
use headlight::session::{Generation, Session};

const CONFIG: &str = r#"{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 50257,
"n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "activation_function": "gelu_new",
"layer_norm_epsilon": 1e-05, "bos_token_id": 50256, "eos_token_id": 50256, "tie_word_embeddings": true}"#;
const LENGTHS: [usize; 4] = [16, 64, 256, 1024];
const GENERATED: usize = 64;
const GENERATION_PROMPT: usize = 16;

struct Args {
    dir: PathBuf,
    repeats: usize,
}

fn args() -> Args {
    let mut parsed = Args { dir: PathBuf::from("target/bench/gpt2-small-random"), repeats: 5 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--dir" => parsed.dir = it.next().expect("--dir takes a folder").into(),
            "--repeats" => parsed.repeats = it.next().and_then(|n| n.parse().ok()).expect("--repeats takes a count"),
            "--bench" => {} // cargo bench passes this to every bench target
            other => panic!("unknown argument {other}; see the usage at the top of benches/native.rs"),
        }
    }
    parsed
}

/// Writes `config.json` and `model.safetensors` (about 500 MB, f32) unless they are there, so the
/// peer in `bench/torch_peer.py` loads the very same weights.
fn checkpoint(dir: &PathBuf) -> (Gpt2Config, Vec<u8>) {
    let config = Gpt2Config::from_json(CONFIG.as_bytes()).expect("the benchmark's config is valid");
    let weights_path = dir.join("model.safetensors");
    if !weights_path.exists() {
        std::fs::create_dir_all(dir).expect("the benchmark folder can be created");
        // GPT-2's initialiser draws N(0, 0.02); a pattern of that scale keeps activations (and
        // so the speed of the arithmetic) in the range of a real model.
        let file = headlight::synthetic::file(&headlight::synthetic::tensors(&config, "", 0.02));
        std::fs::write(&weights_path, file).expect("the checkpoint can be written");
        std::fs::write(dir.join("config.json"), CONFIG).expect("the config can be written");
    }
    (config, std::fs::read(&weights_path).expect("the checkpoint can be read"))
}

/// Median of `repeats` timings of `f`, in milliseconds, after one untimed warm-up run.
fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Milliseconds per token of greedy generation after a short prompt.
fn generation_ms(model: &Gpt2, prompt: &[u32]) -> f64 {
    let mut session = Session::start(model, prompt, false).expect("the prompt fits");
    let mut generation = Generation::new(Decoding::Greedy, GENERATED, Vec::new()).expect("greedy decoding has no settings to refuse");
    let start = Instant::now();
    generation.run(model, &mut session, |_, _| {}).expect("the logits are numbers");
    start.elapsed().as_secs_f64() * 1e3 / session.generated().len().max(1) as f64
}

fn main() {
    let args = args();
    let (config, weights) = checkpoint(&args.dir);
    let start = Instant::now();
    let model = load_gpt2(&config, &weights, &Device::default()).expect("the checkpoint loads").model;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    drop(weights);

    let mut rng = Rng::seeded(2019);
    let ids: Vec<u32> = (0..1024).map(|_| (rng.next_u64() % config.vocab_size as u64) as u32).collect();

    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    println!("headlight native, GPT-2 small shape, threads: {threads}, load {load_ms:.0} ms");
    println!("{:<10} {:>7} {:>8} {:>12}", "case", "tokens", "capture", "ms");
    let mut cases = Vec::new();
    for &n in &LENGTHS {
        for capture in [false, true] {
            let repeats = if n >= 1024 { args.repeats.min(3) } else { args.repeats };
            let ms = median_ms(repeats, || {
                Session::start(&model, &ids[..n], capture).expect("the prompt fits");
            });
            println!("{:<10} {:>7} {:>8} {:>12.1}", "forward", n, capture, ms);
            cases.push(serde_json::json!({"case": "forward", "tokens": n, "capture": capture, "ms": ms}));
        }
    }
    let ms = generation_ms(&model, &ids[..GENERATION_PROMPT]);
    println!("{:<10} {:>7} {:>8} {:>12.1}  per token", "generate", GENERATED, false, ms);
    cases.push(serde_json::json!({"case": "generate", "tokens": GENERATED, "capture": false, "ms": ms}));

    let report = serde_json::json!({"engine": "headlight", "threads": threads, "load_ms": load_ms, "cases": cases});
    let out = args.dir.join("headlight.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report).expect("JSON")).expect("the report can be written");
    println!("JSON: {}", out.display());
}
