//! Native speed of headlight on a GPT-2-small-shaped checkpoint (12 layers, 12 heads, 768 wide,
//! 50257 tokens, random weights written here as safetensors and read back through the real
//! loader): one forward pass over 16, 64, 256 and 1024 tokens with the attention capture on and
//! off, and generation of 64 tokens with the KV cache. Prints a table and writes JSON.
//!
//! Each case runs on the kernels (the app's path, runtime-dispatched: AVX2+FMA where the CPU
//! has them), on the kernels' portable variant, and on the burn reference, interleaved in one
//! process, with the ratios. Then the products alone: `kernels::gemm::linear` on GPT-2 small's
//! shapes in GFLOP/s, on hot operands (one weight, again and again) and cold ones (a weight set
//! larger than the caches, taken in turn), against the micro-kernel's own ceiling.
//!
//! `bench/native.sh` runs this beside PyTorch on the same files and prints the ratios. Thread
//! counts come from RAYON_NUM_THREADS and MATMUL_NUM_THREADS, which that script sets.
//!
//! Usage: cargo bench --bench native -- [--dir DIR] [--repeats N] [--products (that table only)] [--max-tokens N]

use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::Device;
use headlight::kernels::Isa;
use headlight::kernels::gemm::{Packed, linear, peak_gflops};
use headlight::kernels::gpt2::Kernels;
use headlight::model::config::Gpt2Config;
use headlight::model::generate::Decoding;
use headlight::model::gpt2::Gpt2;
use headlight::model::loader::load_gpt2;
use headlight::model::reference;
use headlight::rng::Rng;
use headlight::safetensors::Values;
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
    /// Only the products' table.
    products: bool,
    /// The longest forward pass timed.
    max_tokens: usize,
}

fn args() -> Args {
    let mut parsed = Args { dir: PathBuf::from("target/bench/gpt2-small-random"), repeats: 5, products: false, max_tokens: 1024 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--dir" => parsed.dir = it.next().expect("--dir takes a folder").into(),
            "--repeats" => parsed.repeats = it.next().and_then(|n| n.parse().ok()).expect("--repeats takes a count"),
            "--products" => parsed.products = true,
            "--max-tokens" => parsed.max_tokens = it.next().and_then(|n| n.parse().ok()).expect("--max-tokens takes a count"),
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

/// Milliseconds of one call of `f`.
fn time_ms(f: &mut impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64() * 1e3
}

/// Median milliseconds of each of `fs`, run interleaved (`a, b, c, a, b, c, ...`) `repeats`
/// times after one untimed warm-up round, so that a machine's drift falls on all alike.
fn interleaved_ms(repeats: usize, fs: &mut [Box<dyn FnMut() + '_>]) -> Vec<f64> {
    fs.iter_mut().for_each(|f| f());
    let mut times = vec![Vec::new(); fs.len()];
    for _ in 0..repeats {
        for (f, times) in fs.iter_mut().zip(&mut times) {
            times.push(time_ms(f));
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect()
}

/// What runs a case: the kernels for an instruction set, or the burn reference.
#[derive(Clone, Copy)]
enum Engine {
    Kernels(Isa),
    Burn,
}

/// The two models of one checkpoint.
struct Models {
    kernels: Kernels,
    burn: Gpt2,
}

impl Models {
    /// Reads `ids`, a chunk at a time, as the app does.
    fn read(&self, engine: Engine, ids: &[u32], capture: bool) {
        match engine {
            Engine::Kernels(isa) => drop(Session::start_on(isa, &self.kernels, ids, capture).expect("the prompt fits")),
            Engine::Burn => drop(reference::run(&self.burn, ids, 0, capture)),
        }
    }

    /// Milliseconds per token of greedy generation after a short prompt.
    fn generation_ms(&self, engine: Engine, prompt: &[u32]) -> f64 {
        match engine {
            Engine::Kernels(isa) => {
                let mut session = Session::start_on(isa, &self.kernels, prompt, false).expect("the prompt fits");
                let mut generation = Generation::new(Decoding::Greedy, GENERATED, Vec::new()).expect("greedy decoding has no settings to refuse");
                let start = Instant::now();
                generation.run(&self.kernels, &mut session, |_, _| {}).expect("the logits are numbers");
                start.elapsed().as_secs_f64() * 1e3 / session.generated().len().max(1) as f64
            }
            Engine::Burn => {
                // the prompt's share, timed alone, taken off
                let prompt_ms = time_ms(&mut || drop(reference::run(&self.burn, prompt, 0, false)));
                let start = Instant::now();
                let run = reference::run(&self.burn, prompt, GENERATED, false);
                (start.elapsed().as_secs_f64() * 1e3 - prompt_ms) / run.generated.len().max(1) as f64
            }
        }
    }
}

fn main() {
    let args = args();
    let (config, weights) = checkpoint(&args.dir);
    let start = Instant::now();
    let kernels = Kernels::load(&config, weights.clone()).expect("the checkpoint loads").model;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let models = Models { kernels, burn: load_gpt2(&config, weights, &Device::default()).expect("the checkpoint loads").model };

    let mut rng = Rng::seeded(2019);
    let ids: Vec<u32> = (0..1024).map(|_| (rng.next_u64() % config.vocab_size as u64) as u32).collect();

    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    let engines = [("kernels", Engine::Kernels(Isa::best())), ("portable", Engine::Kernels(Isa::PORTABLE)), ("burn", Engine::Burn)];
    println!("headlight native, GPT-2 small shape, threads: {threads} (the kernels use one), kernels: {}, load {load_ms:.0} ms", Isa::best().name());
    println!("{:<10} {:>7} {:>8} {:>10} {:>10} {:>10} {:>9}", "case", "tokens", "capture", "kernels", "portable", "burn", "burn/k");
    let mut cases = Vec::new();
    let mut report = |case: &str, n: usize, capture: bool, ms: &[f64]| {
        println!("{case:<10} {n:>7} {capture:>8} {:>10.1} {:>10.1} {:>10.1} {:>8.2}x", ms[0], ms[1], ms[2], ms[2] / ms[0]);
        for ((name, _), ms) in engines.iter().zip(ms) {
            let engine = if *name == "burn" { "headlight-burn".to_string() } else { format!("headlight-{name}") };
            cases.push(serde_json::json!({"case": case, "tokens": n, "capture": capture, "engine": engine, "ms": ms}));
        }
    };
    for &n in LENGTHS.iter().filter(|&&n| !args.products && n <= args.max_tokens) {
        for capture in [false, true] {
            let repeats = if n >= 1024 { args.repeats.min(3) } else { args.repeats };
            let mut runs: Vec<Box<dyn FnMut()>> = engines
                .iter()
                .map(|&(_, engine)| {
                    let (models, ids) = (&models, &ids);
                    Box::new(move || models.read(engine, &ids[..n], capture)) as Box<dyn FnMut()>
                })
                .collect();
            report("forward", n, capture, &interleaved_ms(repeats, &mut runs));
        }
    }
    if !args.products {
        let ms: Vec<f64> = engines.iter().map(|&(_, engine)| models.generation_ms(engine, &ids[..GENERATION_PROMPT])).collect();
        report("generate", GENERATED, false, &ms);
        println!("(generate: ms per token over {GENERATED} tokens)");
    }
    // The first engine's figures keep the names the PyTorch comparison reads.
    let ours: Vec<serde_json::Value> = cases.iter().filter(|c| c["engine"] == "headlight-kernels").cloned().collect();

    println!("\nproducts (kernels::gemm::linear), GFLOP/s; micro-kernel ceiling: {}", Isa::available().iter().map(|&isa| format!("{} {:.1}", isa.name(), peak_gflops(isa, 20_000_000))).collect::<Vec<_>>().join(", "));
    println!("{:<22} {:>10} {:>10} {:>10} {:>10}", "[m, k] x [k, n]", "isa", "hot", "cold", "of ceiling");
    let mut products = Vec::new();
    for isa in Isa::available() {
        let peak = peak_gflops(isa, 20_000_000);
        for (m, k, n) in [(1, 768, 3072), (64, 768, 2304), (64, 768, 3072), (64, 3072, 768), (256, 768, 3072)] {
            let weights = |seed: usize| Packed::new(&Values::F32((0..k * n).map(|i| ((i * 7 + seed) % 13) as f32 * 0.01 - 0.06).collect()), &vec![0.0; n], k, n);
            // cold: enough weights that one is out of every cache by the time it comes round again
            let cold: Vec<Packed> = (0..(64 << 20) / (4 * k * n) + 2).map(weights).collect();
            let x: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
            let mut y = vec![0.0; m * n];
            let flops = (2 * m * k * n) as f64;
            let runs = (2e9 / flops).clamp(3.0, 2000.0) as usize;
            let mut hot = || (0..runs).for_each(|_| linear(isa, &x, &cold[0], None, &mut y));
            hot();
            let hot = flops * runs as f64 / time_ms(&mut hot) / 1e6;
            let mut turn = 0;
            let mut cold_run = || {
                (0..runs).for_each(|_| {
                    turn = (turn + 1) % cold.len();
                    linear(isa, &x, &cold[turn], None, &mut y)
                })
            };
            let cold = flops * runs as f64 / time_ms(&mut cold_run) / 1e6;
            println!("{:<22} {:>10} {:>10.1} {:>10.1} {:>9.0}%", format!("[{m}, {k}] x [{k}, {n}]"), isa.name(), hot, cold, 100.0 * hot.max(cold) / peak);
            products.push(serde_json::json!({"m": m, "k": k, "n": n, "isa": isa.name(), "hot_gflops": hot, "cold_gflops": cold, "ceiling_gflops": peak}));
        }
    }

    let report = serde_json::json!({"engine": "headlight", "threads": threads, "load_ms": load_ms, "kernels": Isa::best().name(), "cases": ours, "all_cases": cases, "products": products});
    let out = args.dir.join("headlight.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report).expect("JSON")).expect("the report can be written");
    println!("JSON: {}", out.display());
}
