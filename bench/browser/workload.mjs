// The users' workload in the built page (bench/app.sh): a long prompt read and continued, then
// everything a reader does with it. For each phase, the main thread's long tasks (over 50 ms,
// PerformanceObserver `longtask`) are summed; clicks on tokens are real pointer clicks timed to
// the next paint by the Event Timing API, and by a frame wait for comparison. Works on any build
// of the page since the first one with local files, so a before and an after run side by side.
import { existsSync } from 'node:fs';

const WORDS = 'the of and to in is was that for it with as on be at by this had not are but from or have an they which one you were her all she there would their we him been has'.split(' ');

/** `The` and `count - 1` common words: exactly `count` GPT-2 tokens. */
export const prompt = (count) => 'The' + Array.from({ length: count - 1 }, (_, i) => ` ${WORDS[i % WORDS.length]}`).join('');

/** Installed before the page's scripts: long tasks and slow events land in `window.__perf`. */
function observe() {
  window.__perf = { longtasks: [], events: [] };
  new PerformanceObserver((list) => window.__perf.longtasks.push(...list.getEntries().map((e) => [e.startTime, e.duration]))).observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((list) => window.__perf.events.push(...list.getEntries().map((e) => [e.name, e.startTime, e.duration, e.processingEnd - e.processingStart]))).observe({ type: 'event', durationThreshold: 16, buffered: true });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = (page) => page.evaluate(() => performance.now());
const idle = (page) => page.waitForFunction(() => document.querySelector('#status-text')?.dataset.running === 'false', null, { timeout: 600_000, polling: 100 });
// Builds before the views worker have no busy marks: their maps are drawn once the task ends.
const drawn = (page) => page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'), null, { timeout: 600_000, polling: 100 });
const settle = async (page) => {
  await drawn(page);
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0))));
};

/** Long tasks of the main thread from `from` on: count, total and longest, in ms. */
async function longTasks(page, from) {
  const tasks = await page.evaluate((t) => window.__perf.longtasks.filter(([start]) => start >= t).map(([, d]) => d), from);
  return { count: tasks.length, total_ms: Math.round(tasks.reduce((a, b) => a + b, 0)), longest_ms: Math.round(Math.max(0, ...tasks)) };
}

/** Runs `action`, waits for the page to settle, and reports its long tasks and wall time. */
async function phase(page, action) {
  const from = await now(page);
  await action();
  await settle(page);
  return { wall_ms: Math.round((await now(page)) - from), ...(await longTasks(page, from)) };
}

/** Real pointer clicks on `count` chips spread over the stream: Event Timing's duration (a
 * click faster than 16 ms to its paint leaves no entry: counted as under 16) and a frame wait.
 * The pointer comes to rest on the chip first, as a hand does, and the shading its hover asks
 * for is drawn; the hover is timed too (from the pointer's arrival to the shading painted). */
async function clicks(page, count = 11) {
  const chips = await page.locator('.chip').count();
  const frame = [];
  const timed = [];
  const hover = [];
  for (let i = 0; i < count; i++) {
    const chip = page.locator('.chip').nth(Math.floor(((i + 0.5) * chips) / count));
    await chip.scrollIntoViewIfNeeded();
    const box = await chip.boundingBox();
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    const hovered = await page.evaluate(() => performance.now());
    await page.mouse.move(x, y);
    await settle(page);
    hover.push((await page.evaluate(() => performance.now())) - hovered);
    // the listener is in place before the click: the time from the click to its frame painted
    const from = await page.evaluate(() => {
      window.__painted = new Promise((done) => {
        addEventListener('click', (e) => requestAnimationFrame(() => setTimeout(() => done(performance.now() - e.timeStamp), 0)), { once: true, capture: true });
      });
      return performance.now();
    });
    await page.mouse.click(x, y);
    const took = await page.evaluate(() => window.__painted);
    await settle(page);
    await page.waitForTimeout(50); // Event Timing reports after the paint
    const events = await page.evaluate((t) => window.__perf.events.filter(([name, start]) => name === 'click' && start >= t).map(([, , d]) => d), from);
    timed.push(events.length ? Math.max(...events) : 0);
    frame.push(took);
  }
  return { clicks: count, event_timing_median_ms: median(timed), event_timing_max_ms: Math.max(...timed), over_16_ms: timed.filter((d) => d > 16).length, frame_wait_median_ms: Math.round(median(frame) * 10) / 10, hover_to_shading_median_ms: Math.round(median(hover)) };
}

/** The page's JS heap (used) and DOM nodes, from the DevTools protocol. */
async function footprint(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
  return { js_heap_mb: Math.round(get('JSHeapUsedSize') / 1e5) / 10, dom_nodes: get('Nodes') };
}

/**
 * The workload on one build: open `url`, load `files` (local files; none: the bundled model),
 * read a prompt of `promptTokens` and generate `newTokens`, then clicks in every view, the view
 * switches, the analysis panels, the timeline and an export.
 */
export async function workload(browser, url, { files, promptTokens, newTokens }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await context.addInitScript(() => localStorage.setItem('headlight.guide-dismissed', '1'));
  // HEADLIGHT_THREADS=n: the inference worker's thread count, as the page's override takes it.
  if (process.env.HEADLIGHT_THREADS) await context.addInitScript((n) => localStorage.setItem('headlight.threads', n), process.env.HEADLIGHT_THREADS);
  await context.addInitScript(observe);
  const page = await context.newPage();
  page.setDefaultTimeout(600_000);
  await page.goto(url);
  await page.waitForSelector('#status-text[data-ready="true"]');
  await idle(page);
  if (files) {
    await page.selectOption('#model-choice', 'local');
    await page.setInputFiles('#local-files', files);
    await page.click('#load-model');
    await page.waitForFunction(() => document.querySelector('#model-loaded')?.textContent.includes('Loaded: local files') && document.querySelector('#status-text')?.dataset.ready === 'true', null, { timeout: 600_000, polling: 200 });
    await idle(page);
  }
  const result = { prompt_tokens: promptTokens, new_tokens: newTokens };
  await page.fill('#prompt', prompt(promptTokens));
  const setting = page.locator('.setting', { hasText: 'New tokens' }).locator('input');
  await setting.fill(String(newTokens));
  await setting.dispatchEvent('change');
  await page.locator('.setting', { hasText: 'Decoding' }).locator('select').selectOption('greedy');
  // The run: from the click on Run until the last map is drawn.
  result.run = await phase(page, async () => {
    await page.click('#run');
    await page.waitForTimeout(200);
    await idle(page);
  });
  result.status = await page.textContent('#status-text');
  result.engine = await page.$eval('#status-text', (e) => `${e.dataset.kernels} kernels, ${e.dataset.threads} thread(s)`);
  result.tokens = await page.locator('.chip').count();
  result.views = {};
  for (const mode of ['head', 'block', 'layer', 'overview', 'lines']) {
    const switched = await phase(page, () => page.click(`.tab[data-mode="${mode}"]`));
    result.views[mode] = { switch: switched, click: await clicks(page) };
  }
  await phase(page, () => page.click('.tab[data-mode="head"]'));
  result.panels = {};
  for (const panel of ['roles', 'predictions', 'inside', 'ablation']) {
    result.panels[panel] = await phase(page, async () => {
      await page.click(`.analysis-panel .tab[data-panel="${panel}"]`);
      if (panel === 'predictions') await page.waitForSelector('#predictions .candidate');
      if (panel === 'ablation') {
        await page.check('#ablation-switches input[data-layer="0"][data-head="0"]');
        await page.waitForSelector('#ablated-predictions .candidate');
      }
    });
  }
  result.timeline = await phase(page, async () => {
    for (let i = 0; i < 8; i++) {
      await page.click('button[aria-label="Previous step"]');
      await settle(page);
    }
  });
  result.export_svg = await phase(page, async () => {
    const download = page.waitForEvent('download');
    await page.click('#export-svg');
    await download;
  });
  result.footprint = await footprint(page);
  await context.close();
  return result;
}

/** One line per figure, for the console. */
export function report(label, r) {
  const tasks = (p) => `${p.count} long tasks, ${p.total_ms} ms in all, longest ${p.longest_ms} ms; ${p.wall_ms} ms wall`;
  const lines = [`${label}: ${r.prompt_tokens} prompt tokens + ${r.new_tokens} generated (${r.tokens} shown)`, `  run: ${tasks(r.run)}`, `  status: ${r.status}`, `  engine: ${r.engine}`];
  for (const [mode, v] of Object.entries(r.views)) {
    lines.push(`  ${mode}: switch ${tasks(v.switch)}; click to paint (Event Timing) median ${v.click.event_timing_median_ms} ms, max ${v.click.event_timing_max_ms} ms, ${v.click.over_16_ms} of ${v.click.clicks} over 16 ms; frame wait ${v.click.frame_wait_median_ms} ms; hover to shading drawn ${v.click.hover_to_shading_median_ms} ms`);
  }
  for (const [panel, p] of Object.entries(r.panels)) lines.push(`  panel ${panel}: ${tasks(p)}`);
  lines.push(`  timeline, 8 steps back: ${tasks(r.timeline)}`, `  SVG export: ${tasks(r.export_svg)}`, `  page: JS heap ${r.footprint.js_heap_mb} MB, ${r.footprint.dom_nodes} DOM nodes`);
  return lines.join('\n');
}

/** The three files of the checkpoint in `dir`, which must all be there. */
export function files(dir) {
  const paths = ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => `${dir}/${f}`);
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: bench/gpt2_small.py writes them`);
  return paths;
}
