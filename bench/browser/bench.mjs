// The browser benchmark page: headlight (wasm, release build) against onnxruntime-web (wasm) on
// the same checkpoint, at the same number of threads (`?threads=N`, default 1; several need the
// page cross-origin isolated and headlight built with wasm threads, see headlight.mjs), run interleaved in this one page:
// every case times headlight, then the peer, then headlight again, and so on, after a warm-up of
// each, so that the machine's drift falls on both alike. Reports the median and the spread
// (fastest and slowest run). Then the matrix-product microbenchmark, hot and cold, against the
// simd128 peak, and the peak wasm memory. Served from the repository root by bench/browser.sh,
// which reads window.benchResults when window.benchDone is set.
import init, { Bench, Matmul, memory_bytes, simd_peak, isa } from './pkg/headlight-bench.js';
import * as ort from './node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { headlight as threaded } from './headlight.mjs';

const LENGTHS = [16, 64, 256, 1024];
const GENERATED = 64;
const GENERATION_PROMPT = 16;
const GENERATION_RUNS = 3;
const N_LAYER = 12, N_HEAD = 12, HEAD_DIM = 64, VOCAB = 50257;

const log = (line) => { document.querySelector('#log').textContent += line + '\n'; };
const results = { cases: [], matmul: [], memory: {}, errors: [] };
window.benchResults = results;

const repeatsFor = (n) => (n >= 1024 ? 3 : 7);

const stats = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
};

const timed = async (f) => {
  const start = performance.now();
  await f();
  return performance.now() - start;
};

/** Runs `a` and `b` alternately `repeats` times after one untimed run of each; their stats. */
async function interleaved(repeats, a, b) {
  await a();
  await b();
  const [ta, tb] = [[], []];
  for (let i = 0; i < repeats; i++) {
    ta.push(await timed(a));
    tb.push(await timed(b));
  }
  return [stats(ta), stats(tb)];
}

const fetchBytes = async (name) => new Uint8Array(await (await fetch(MODEL + name)).arrayBuffer());
const ids = Array.from({ length: 1024 }, (_, i) => (i * 7919 + 13) % VOCAB);

function record(c, ours, peer) {
  const row = { ...c, headlight: ours, onnxruntime: peer };
  results.cases.push(row);
  const show = (x) => (x.median === undefined ? String(x) : `${x.median.toFixed(1)} ms (${x.min.toFixed(1)}-${x.max.toFixed(1)})`);
  log(`${c.case} ${c.tokens} capture=${c.capture}: headlight ${show(ours)}, onnxruntime ${show(peer)}`);
}

const past = (p) => new ort.Tensor('float32', new Float32Array(N_LAYER * N_HEAD * p * HEAD_DIM), [N_LAYER, N_HEAD, p, HEAD_DIM]);
const idTensor = (list) => new ort.Tensor('int64', BigInt64Array.from(list.map(BigInt)), [list.length]);

/** Greedy generation on the peer: `GENERATED` tokens after the prompt; ms per token. */
async function peerGenerate(session) {
  let out = await session.run({ ids: idTensor(ids.slice(0, GENERATION_PROMPT)), past_k: past(0), past_v: past(0) });
  const start = performance.now();
  for (let i = 0; i < GENERATED; i++) {
    const logits = out.logits.data;
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
    out = await session.run({ ids: idTensor([best]), past_k: out.present_k, past_v: out.present_v });
  }
  return (performance.now() - start) / GENERATED;
}

/** `?products` in the page's address: only the matrix-product table (for tuning the kernels).
 * `?profile=N`: only headlight's forward pass over N tokens, five times after a warm-up, for
 * bench/browser/profile.mjs to record a CPU profile of; `?profile=generate`: three runs of the
 * generation case instead. */
const query = new URLSearchParams(location.search);
/** `?model=gpt2-small-f16`: the f16 checkpoint (bench/browser.sh with DTYPE=f16). */
const MODEL = `../../target/bench/${query.get('model') ?? 'gpt2-small-random'}/`;
const productsOnly = query.has('products');
const THREADS = Number(query.get('threads') ?? 1);
const profiled = query.get('profile');

async function run() {
  await init();
  results.headlight_isa = isa();
  if (profiled) return profile(profiled);
  if (!productsOnly) await engines(await threaded(THREADS));
  // the products table is one thread's: the kernels against the peak of one core
  if (THREADS === 1) products();
}

async function profile(what) {
  const bench = new Bench(await fetchBytes('config.json'), await fetchBytes('model.safetensors'));
  const [runs, once, name] = what === 'generate'
    ? [3, () => bench.generate(GENERATION_PROMPT, GENERATED), `generations of ${GENERATED} tokens`]
    : [5, () => bench.forward(Number(what), false), `forward passes over ${what} tokens`];
  once();
  window.profileReady = true;
  await new Promise((resolve) => { window.profileGo = resolve; });
  const start = performance.now();
  for (let i = 0; i < runs; i++) once();
  log(`${runs} ${name}: ${(performance.now() - start).toFixed(0)} ms`);
  bench.free();
}

async function engines(headlight) {
  results.threads = { headlight: headlight.threads, onnxruntime: THREADS };
  ort.env.wasm.numThreads = THREADS;
  ort.env.wasm.wasmPaths = new URL('./node_modules/onnxruntime-web/dist/', import.meta.url).href;
  results.versions = { onnxruntime_web: ort.env.versions?.web ?? 'unknown' };

  let start = performance.now();
  const weights = await fetchBytes('model.safetensors');
  await headlight.call('load', [await fetchBytes('config.json'), weights], [weights.buffer]);
  results.memory.after_load = await headlight.call('memory_bytes');
  log(`headlight (${results.headlight_isa}, ${headlight.threads} threads) loaded in ${(performance.now() - start).toFixed(0)} ms`);
  // First, while the memory is fresh (it never shrinks): 1024 tokens read the app's way.
  const read = performance.now();
  results.memory.app_capture_bytes_1024 = await headlight.call('read_like_the_app', [1024]);
  results.memory.after_app_read_1024 = await headlight.call('memory_bytes');
  log(`app-style read of 1024 tokens: ${(performance.now() - read).toFixed(0)} ms, capture ${(results.memory.app_capture_bytes_1024 / 2 ** 20).toFixed(0)} MiB, memory ${(results.memory.after_app_read_1024 / 2 ** 20).toFixed(0)} MiB`);

  const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  start = performance.now();
  const sessions = {
    false: await ort.InferenceSession.create(await fetchBytes('gpt2.onnx'), options),
    true: await ort.InferenceSession.create(await fetchBytes('gpt2-attn.onnx'), options),
  };
  log(`onnxruntime-web ${results.versions.onnxruntime_web} loaded in ${(performance.now() - start).toFixed(0)} ms`);

  for (const n of LENGTHS) {
    for (const capture of [false, true]) {
      const c = { case: 'forward', tokens: n, capture };
      let bytes = 0;
      try {
        const [ours, peer] = await interleaved(repeatsFor(n),
          async () => { bytes = await headlight.call('forward', [n, capture]); },
          () => sessions[capture].run({ ids: idTensor(ids.slice(0, n)), past_k: past(0), past_v: past(0) }));
        record(c, ours, peer);
      } catch (e) {
        results.errors.push(`forward ${n} capture=${capture}: ${e.message ?? e}`);
        record(c, 'failed', 'failed');
      }
      if (capture) results.memory[`capture_bytes_${n}`] = bytes;
    }
  }
  results.memory.peak = await headlight.call('memory_bytes');

  // Generation, per token: headlight's time less its prompt's (read alone just before), the
  // peer's from the first generated token on; runs alternate.
  const [ours, peer] = [[], []];
  let made = GENERATED;
  for (let i = 0; i <= GENERATION_RUNS; i++) {
    const prompt = await timed(() => headlight.call('generate', [GENERATION_PROMPT, 0]));
    const whole = await timed(async () => { made = await headlight.call('generate', [GENERATION_PROMPT, GENERATED]); });
    const theirs = await peerGenerate(sessions[false]);
    if (i > 0) { ours.push((whole - prompt) / made); peer.push(theirs); } // the first run warms up
  }
  record({ case: 'generate', tokens: made, capture: false }, stats(ours), stats(peer));
  await headlight.call('free');
  await sessions[false].release();
  await sessions[true].release();
}

function products() {
  // V8 runs wasm first in its baseline compiler and swaps in optimised code for later calls
  // only, never for a call in progress: so each kernel is called many times and the fastest
  // call counts, never one long call.
  const bestRate = (flops, call, calls) => {
    let best = 0;
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      call();
      best = Math.max(best, flops / ((performance.now() - t) * 1e6));
    }
    return best;
  };
  const peakIters = 1_000_000;
  results.simd_peak_gflops = bestRate(peakIters * 96, () => simd_peak(peakIters, false), 40);
  log(`simd128 multiply-add peak: ${results.simd_peak_gflops.toFixed(1)} GFLOP/s`);
  if (results.headlight_isa === 'relaxed-simd') {
    results.relaxed_peak_gflops = bestRate(peakIters * 96, () => simd_peak(peakIters, true), 40);
    log(`relaxed-simd fused multiply-add peak: ${results.relaxed_peak_gflops.toFixed(1)} GFLOP/s`);
  }
  // the products are measured against the peak of the instructions they run on
  const peak = results.relaxed_peak_gflops ?? results.simd_peak_gflops;
  // f32 weights at every shape; 16-bit ones (widened as they are read) where a 16-bit
  // checkpoint's products differ: a prompt's block, and the one-row products of generation
  const shapes = [[64, 768, 2304], [64, 3072, 768], [256, 768, 3072], [1024, 768, 768], [1, 768, 2304], [1, 768, 50257]];
  const cases = [...shapes.map((s) => [...s, 'f32']), ...['f16', 'bf16'].flatMap((p) => [[64, 768, 2304, p], [1, 768, 2304, p], [1, 768, 50257, p]])];
  for (const [m, k, n, precision] of cases) {
    const repeats = Math.max(1, Math.round(2e8 / (2 * m * k * n)));
    const rates = {};
    // hot: one weight, again and again; cold: weights that fill 64 MiB, taken in turn
    const bytes = precision === 'f32' ? 4 : 2;
    for (const [kind, copies] of [['hot', 1], ['cold', Math.max(1, Math.ceil((64 << 20) / (bytes * k * n)) + 1)]]) {
      const product = new Matmul(m, k, n, copies, precision);
      rates[kind] = bestRate(2 * m * k * n * repeats, () => product.run(repeats), 10);
      product.free();
    }
    results.matmul.push({ m, k, n, precision, hot: rates.hot, cold: rates.cold, of_peak: rates.hot / peak, cold_of_peak: rates.cold / peak });
    log(`matmul ${m}x${k}x${n} ${precision}: hot ${rates.hot.toFixed(1)}, cold ${rates.cold.toFixed(1)} GFLOP/s (${(100 * rates.hot / peak).toFixed(0)}% / ${(100 * rates.cold / peak).toFixed(0)}% of peak)`);
  }
}

try {
  await run();
} catch (e) {
  results.errors.push(String(e?.stack ?? e));
  log(`error: ${e}`);
}
results.userAgent = navigator.userAgent;
window.benchDone = true;
log('done');
