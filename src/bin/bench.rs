//! The wasm side of the browser benchmark (bench/browser.sh): the model, the generation loop and
//! the matrix product exactly as the app runs them, exported to the benchmark page, which times
//! them with `performance.now()` beside onnxruntime-web. Built only with `--features bench`.

#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod exports {
    use headlight::capture::Capture;
    use headlight::kernels::Isa;
    use headlight::kernels::gemm::{Packed, linear};
    use headlight::kernels::gpt2::Kernels;
    use headlight::model::config::Gpt2Config;
    use headlight::model::generate::Decoding;
    use headlight::rng::Rng;
    use headlight::safetensors::Values;
    use headlight::session::{Generation, Session};
    use headlight::worker::protocol::Rows;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    pub struct Bench {
        model: Kernels,
        ids: Vec<u32>,
    }

    #[wasm_bindgen]
    impl Bench {
        /// Loads a checkpoint through the real loader, which consumes the file as the worker's
        /// does; `ids` are 1024 fixed pseudo-random tokens.
        #[wasm_bindgen(constructor)]
        pub fn new(config: &[u8], weights: Vec<u8>) -> Result<Bench, JsError> {
            let config = Gpt2Config::from_json(config).map_err(|e| JsError::new(&e.to_string()))?;
            let model = Kernels::load(&config, weights).map_err(|e| JsError::new(&e.to_string()))?.model;
            let mut rng = Rng::seeded(2019);
            let ids = (0..config.n_positions).map(|_| (rng.next_u64() % config.vocab_size as u64) as u32).collect();
            Ok(Bench { model, ids })
        }

        /// One forward pass over the first `n` tokens; returns the bytes the capture holds.
        pub fn forward(&self, n: usize, capture: bool) -> Result<usize, JsError> {
            let session = Session::start(&self.model, &self.ids[..n], capture).map_err(|e| JsError::new(&e.to_string()))?;
            Ok(session.capture().map_or(0, |c| c.bytes()))
        }

        /// Reads the first `n` tokens as the app does: the worker a chunk at a time, keeping
        /// nothing, and sending each position's rows; the page recording them in its capture
        /// (compact for GPT-2 small). Returns the bytes the page's capture holds.
        pub fn read_like_the_app(&self, n: usize) -> Result<usize, JsError> {
            let c = &self.model.config;
            let mut worker = Session::open(&self.model, &self.ids[..n], false).map_err(|e| JsError::new(&e.to_string()))?;
            let mut page = Capture::for_app(c.n_layer, c.n_head, c.n_positions);
            page.reserve_positions(n);
            while let Some(pass) = worker.read_prompt(&self.model) {
                for rows in Rows::of_pass(&pass) {
                    page.append_position(&rows.weights.to_vec(), &rows.value_norms);
                }
            }
            Ok(page.bytes())
        }

        /// Reads `prompt` tokens, then generates up to `steps` more greedily with the KV cache;
        /// returns how many it generated.
        pub fn generate(&self, prompt: usize, steps: usize) -> Result<usize, JsError> {
            let error = |e: headlight::Error| JsError::new(&e.to_string());
            let mut session = Session::start(&self.model, &self.ids[..prompt], false).map_err(error)?;
            Generation::new(Decoding::Greedy, steps, Vec::new()).and_then(|mut g| g.run(&self.model, &mut session, |_, _| {})).map_err(error)?;
            Ok(session.generated().len())
        }
    }

    /// Bytes of wasm linear memory; it never shrinks, so this is the peak so far.
    #[wasm_bindgen]
    pub fn memory_bytes() -> usize {
        core::arch::wasm32::memory_size(0) * 65536
    }

    /// `[m, k] · [k, n]` the way the model computes it: `kernels::gemm::linear` on weights
    /// packed once. `copies` weights are taken in turn: one keeps it in cache ("hot"); enough to
    /// outgrow the caches read it from memory each time ("cold"). The operands are made once,
    /// outside the timed calls.
    #[wasm_bindgen]
    pub struct Matmul {
        x: Vec<f32>,
        weights: Vec<Packed>,
        turn: usize,
        y: Vec<f32>,
    }

    #[wasm_bindgen]
    impl Matmul {
        #[wasm_bindgen(constructor)]
        /// `precision`: `f32`, or `f16` / `bf16` (the weights rounded to it, so they are packed
        /// in it and widened as they are read).
        pub fn new(m: usize, k: usize, n: usize, copies: usize, precision: &str) -> Matmul {
            let round: fn(f32) -> f32 = match precision {
                "f16" => |v| half::f16::from_f32(v).to_f32(),
                "bf16" => |v| half::bf16::from_f32(v).to_f32(),
                _ => |v| v,
            };
            let x = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
            let weights = (0..copies.max(1)).map(|c| Packed::new(&Values::F32((0..k * n).map(|i| round(((i + c) % 5) as f32 * 0.1)).collect()), &vec![0.0; n], k, n)).collect();
            Matmul { x, weights, turn: 0, y: vec![0.0; m * n] }
        }

        /// The product `repeats` times, each on the next weight; returns a checksum.
        pub fn run(&mut self, repeats: usize) -> f32 {
            let mut checksum = 0.0;
            for _ in 0..repeats {
                self.turn = (self.turn + 1) % self.weights.len();
                linear(Isa::best(), &self.x, &self.weights[self.turn], None, &mut self.y);
                checksum += self.y[0];
            }
            checksum
        }
    }

    /// Starts a pool of `count` threads (this one included) that the kernels split their work
    /// over, each a module worker running `script` (bench/browser/pool.mjs). Built with the
    /// `threads` feature only (bench/browser.sh THREADS=N).
    #[cfg(feature = "threads")]
    #[wasm_bindgen]
    pub fn start_threads(count: usize, script: &str) -> Result<(), JsError> {
        headlight::worker::pool::start(count, script, true).map_err(|e| JsError::new(&e))
    }

    /// The threads running the kernels: the pool's that have started, and this one.
    #[cfg(feature = "threads")]
    #[wasm_bindgen]
    pub fn running_threads() -> usize {
        headlight::worker::pool::running()
    }

    /// The instruction set the kernels run on here: `simd128` or `relaxed-simd`.
    #[wasm_bindgen]
    pub fn isa() -> String {
        Isa::best().name().into()
    }

    /// The machine's simd128 multiply-add peak: `iters` rounds of 12 independent f32x4
    /// multiply-add chains, 96 flops a round (12 chains × 4 lanes × 2), no memory traffic:
    /// enough chains in flight that latency does not limit them. `fused`: relaxed SIMD's
    /// `f32x4.relaxed_madd` (built with the `relaxed-simd` feature only), else a multiply then
    /// an add. The chains start apart and the factors pass through `black_box`, so the compiler
    /// can neither merge the chains nor fold the loop. Returns a checksum that uses every chain.
    #[wasm_bindgen]
    pub fn simd_peak(iters: u32, fused: bool) -> f32 {
        #[cfg(feature = "relaxed-simd")]
        if fused {
            return peak_chains::<true>(iters);
        }
        assert!(!fused, "built without the relaxed-simd feature");
        peak_chains::<false>(iters)
    }

    #[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
    fn peak_chains<const FUSED: bool>(iters: u32) -> f32 {
        use core::arch::wasm32::*;
        use core::hint::black_box;
        let m = black_box(f32x4_splat(0.999_9));
        let c = black_box(f32x4_splat(1e-4));
        let mut acc: [v128; 12] = core::array::from_fn(|i| f32x4_splat(1.0 + i as f32 * 0.125));
        for _ in 0..black_box(iters) {
            for a in &mut acc {
                #[cfg(feature = "relaxed-simd")]
                if FUSED {
                    *a = f32x4_relaxed_madd(*a, m, c);
                    continue;
                }
                *a = f32x4_add(f32x4_mul(*a, m), c);
            }
        }
        let sum = acc.iter().fold(f32x4_splat(0.0), |s, a| f32x4_add(s, *a));
        f32x4_extract_lane::<0>(sum) + f32x4_extract_lane::<1>(sum) + f32x4_extract_lane::<2>(sum) + f32x4_extract_lane::<3>(sum)
    }
}

fn main() {}
