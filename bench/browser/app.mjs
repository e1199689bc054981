// The app benchmark (bench/app.sh): the built page (release) in headless Chromium, timed the way a person meets
// it. Cold start to the first heatmap on the bundled model; a click on a token to the highlight
// painted, on the default prompt and at 512 tokens (one head, and by block); one timeline step to its frame painted; the gzipped size of the wasm
// and JavaScript without the model. Each time ends at the first frame painted after the change
// (a requestAnimationFrame, then a task: the frame is on screen by then).
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launch } from './chromium.mjs';
import { files as checkpoint, report, workload } from './workload.mjs';

const [url, dist, out] = process.argv.slice(2);
const browser = await launch();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { browser: browser.version(), date: new Date().toISOString().slice(0, 10) };

// Cold start: a fresh context (empty cache) each time.
const cold = [];
for (let i = 0; i < 3; i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  const handle = await page.waitForFunction(() => document.querySelector('svg.heatmap path.cell') && performance.now(), null, { polling: 'raf', timeout: 120_000 });
  cold.push(await handle.jsonValue());
  await context.close();
}
results.cold_start_ms = median(cold);

const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
await page.goto(url);
await page.waitForSelector('#status-text[data-ready="true"]', { timeout: 120_000 });
const idle = () => page.waitForFunction(() => document.querySelector('#status-text')?.dataset.running === 'false', null, { timeout: 300_000 });
await idle();
/** Milliseconds from `action` in the page to the next frame painted. */
const timeToPaint = (action) => page.evaluate(async (source) => {
  const act = new Function(source);
  const start = performance.now();
  act();
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  return performance.now() - start;
}, action);

/** Median time from a click on a token (spread over the stream) to the highlight painted. */
async function clickToPaint(tokens) {
  const clicks = [];
  for (let i = 0; i < 21; i++) {
    clicks.push(await timeToPaint(`document.querySelectorAll('.chip')[${(i * 37) % tokens}].click()`));
  }
  return median(clicks);
}
// The default prompt, in the one-head view: short enough that the whole map shows.
results.short_tokens = await page.$$eval('.chip', (cs) => cs.length);
results.click_to_highlight_short_ms = await clickToPaint(results.short_tokens);

// 506 prompt tokens and 6 generated: 512 positions, the bundled model's whole context.
await page.fill('#prompt', Array.from({ length: 253 }, (_, i) => `w${i % 40}`).join(' '));
const newTokens = page.locator('.setting', { hasText: 'New tokens' }).locator('input');
await newTokens.fill('6');
await newTokens.dispatchEvent('change');
await page.click('#run');
await page.waitForTimeout(500);
await idle();
results.tokens = await page.$$eval('.chip', (cs) => cs.length);

// The one-head view at 512 tokens shows a 48-position window that follows the selected token,
// so most clicks move it and redraw the map; the block view's thumbnails only move the highlight.
results.click_to_highlight_ms = await clickToPaint(results.tokens);
await page.click('.tab[data-mode="block"]');
await page.waitForSelector('.maps.mode-block svg.heatmap');
results.click_to_highlight_block_ms = await clickToPaint(results.tokens);
await page.click('.tab[data-mode="head"]');
const steps = [];
for (let i = 0; i < 11; i++) {
  const button = i % 2 ? 'Next step' : 'Previous step';
  steps.push(await timeToPaint(`document.querySelector('button[aria-label="${button}"]').click()`));
}
results.timeline_step_ms = median(steps);

// The workloads, on this build and (BEFORE_URL) on an earlier one in the same browser, taking
// turns: mini at its whole context (506 + 6), GPT-2 small (SMALL_DIR) at its whole context (992 + 32).
const builds = [['after', url], ...(process.env.BEFORE_URL ? [['before', process.env.BEFORE_URL]] : [])];
const loads = [['mini', { promptTokens: 506, newTokens: 6 }], ...(process.env.SMALL_DIR ? [['gpt2-small', { files: checkpoint(process.env.SMALL_DIR), promptTokens: 992, newTokens: 32 }]] : [])];
results.workloads = {};
for (const [model, load] of loads) {
  for (const [build, at] of [...builds].reverse()) {
    const r = await workload(browser, at, load);
    results.workloads[`${model} ${build}`] = r;
    console.log(report(`${model}, ${build}`, r));
  }
}
await browser.close();

const files = readdirSync(dist).filter((f) => /\.(wasm|js|css|html)$/.test(f) && statSync(join(dist, f)).isFile());
results.bundle = Object.fromEntries(files.map((f) => [f, gzipSync(readFileSync(join(dist, f)), { level: 9 }).length]));
results.bundle_gzip_bytes = Object.values(results.bundle).reduce((a, b) => a + b, 0);

const kb = (b) => `${(b / 1024).toFixed(0)} KB`;
console.log(`cold start to first heatmap (bundled model): ${results.cold_start_ms.toFixed(0)} ms (median of 3)`);
console.log(`click to highlight painted, ${results.short_tokens} tokens (the default prompt), one head: ${results.click_to_highlight_short_ms.toFixed(1)} ms (median of 21)`);
console.log(`click to highlight painted, ${results.tokens} tokens, one head: ${results.click_to_highlight_ms.toFixed(1)} ms (median of 21)`);
console.log(`click to highlight painted, ${results.tokens} tokens, by block: ${results.click_to_highlight_block_ms.toFixed(1)} ms (median of 21)`);
console.log(`one timeline step painted, ${results.tokens} tokens: ${results.timeline_step_ms.toFixed(1)} ms (median of 11)`);
console.log(`bundle without the model, gzipped: ${kb(results.bundle_gzip_bytes)}`);
for (const [f, b] of Object.entries(results.bundle)) console.log(`  ${f}: ${kb(b)}`);
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`JSON: ${out}`);
