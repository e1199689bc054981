// Drives the browser benchmark: opens the page in Debian's headless Chromium, waits for it to
// finish, prints the table of headlight / onnxruntime-web ratios and writes the JSON.
import { writeFileSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [url, out] = process.argv.slice(2);
const browser = await launch();
const page = await browser.newPage();
page.on('console', (m) => console.log(`  [page] ${m.text()}`));
page.on('pageerror', (e) => console.log(`  [page error] ${e}`));
await page.goto(url);
await page.waitForFunction(() => window.benchDone === true, null, { timeout: 0, polling: 2000 });
const results = await page.evaluate(() => window.benchResults);
results.browser = browser.version();
await browser.close();

const fmt = (v) => (typeof v === 'number' ? v.toFixed(1) : String(v ?? '-'));
const show = (x) => (x?.median === undefined ? String(x ?? '-') : `${fmt(x.median)} (${fmt(x.min)}-${fmt(x.max)})`);
console.log(`\nheadlight on ${results.headlight_isa}, onnxruntime-web ${results.versions?.onnxruntime_web}, ${results.browser}; threads: headlight ${results.threads?.headlight}, onnxruntime-web ${results.threads?.onnxruntime}; interleaved`);
console.log(`${'case'.padEnd(10)} ${'tokens'.padStart(7)} ${'capture'.padStart(8)} ${'headlight ms'.padStart(24)} ${'ORT-web ms'.padStart(24)} ${'ratio'.padStart(7)}`);
for (const c of results.cases) {
  c.ratio = c.headlight?.median !== undefined && c.onnxruntime?.median !== undefined ? c.headlight.median / c.onnxruntime.median : null;
  const unit = c.case === 'generate' ? '  per token' : '';
  console.log(`${c.case.padEnd(10)} ${String(c.tokens).padStart(7)} ${String(c.capture).padStart(8)} ${show(c.headlight).padStart(24)} ${show(c.onnxruntime).padStart(24)} ${(c.ratio?.toFixed(2) ?? '-').padStart(7)}${unit}`);
}
console.log('median (fastest-slowest); ratio = headlight / onnxruntime-web medians: below 1 means headlight is faster.');
if (results.simd_peak_gflops) console.log(`\nsimd128 multiply-add peak: ${fmt(results.simd_peak_gflops)} GFLOP/s${results.relaxed_peak_gflops ? `; relaxed-simd fused: ${fmt(results.relaxed_peak_gflops)} GFLOP/s` : ''}`);
for (const m of results.matmul) console.log(`matmul [${m.m}x${m.k}]·[${m.k}x${m.n}] ${m.precision ?? "f32"}: hot ${fmt(m.hot)}, cold ${fmt(m.cold)} GFLOP/s = ${(100 * m.of_peak).toFixed(0)}% / ${(100 * m.cold_of_peak).toFixed(0)}% of ${results.relaxed_peak_gflops ? 'the relaxed-simd' : 'the simd128'} peak`);
const mb = (b) => (b / 2 ** 20).toFixed(0);
if (results.memory.after_load) {
  console.log(`\nwasm memory: ${mb(results.memory.after_load)} MiB after loading the model`);
  console.log(`  the app's way at 1024 tokens (worker reads 128 at a time and keeps nothing; page capture ${mb(results.memory.app_capture_bytes_1024)} MiB): ${mb(results.memory.after_app_read_1024)} MiB, +${mb(results.memory.after_app_read_1024 - results.memory.after_load)} MiB`);
  console.log(`  peak after every forward pass up to 1024 tokens with exact f32 capture: ${mb(results.memory.peak)} MiB`);
  console.log(`capture at 1024 tokens: ${mb(results.memory.capture_bytes_1024)} MiB, ${(results.memory.capture_bytes_1024 / (12 * 12 * 1024)).toFixed(0)} bytes per head per token on average`);
}
for (const e of results.errors) console.log(`error: ${e}`);
results.date = new Date().toISOString().slice(0, 10);
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`JSON: ${out}`);
