// What the end-to-end tests (*.test.mjs) share: the headless Chromium they drive, a fresh page
// per test with its errors collected, waiting for the model and for runs, the settings, the
// fixtures and screenshots. run.sh builds and serves the page and sets HEADLIGHT_URL (and
// HEADLIGHT_DIST, OUTPUT_DIR); hub.test.mjs serves it itself and passes its own URLs to `openIn`.
import { before, after } from 'node:test';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const BASE = process.env.HEADLIGHT_URL ?? 'http://127.0.0.1:8080/';
export const OUTPUT = process.env.OUTPUT_DIR ?? new URL('./output/', import.meta.url).pathname;
export const LOAD_TIMEOUT = 180_000;
export const RUN_TIMEOUT = 120_000;

/** The reference capture tests/fixtures/<name>.json (written by the PyTorch reference). */
export const readFixture = (name) => JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url)));

/** The browser, launched by `useBrowser`'s `before` hook (a live binding: read it in tests and hooks). */
export let browser;

/**
 * Registers the test file's hooks: make OUTPUT and launch headless Chromium before the tests,
 * close it after them. Playwright gives the browser a fresh, temporary profile (user data dir).
 */
export function useBrowser() {
  before(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
  });
}

/**
 * A new page in `context` at `url`. Uncaught exceptions are collected in `page.errors`, and
 * console errors too unless `consoleErrors` is false; `init`, when given, is added as an init
 * script of the page before it loads.
 */
export async function openIn(context, url, { consoleErrors = true, init } = {}) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  if (consoleErrors) page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  if (init) await page.addInitScript(init);
  await page.goto(url);
  return page;
}

/** The localStorage key of a dismissed guide: with it the page opens plainly (head 0 of layer 0). */
export const GUIDE_DISMISSED = 'headlight.guide-dismissed';

/**
 * A fresh page (own context: no shared history or storage) at BASE + hash, its errors collected
 * as `openIn` does. `init` goes to `openIn`; other options (acceptDownloads, …) to the context.
 * The page opens as for a visitor who dismissed the first-visit guide, unless `firstVisit`.
 */
export async function open(hash = '', { width = 1280, height = 900, colorScheme = 'light', init, firstVisit = false, ...options } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme, ...options });
  if (!firstVisit) await context.addInitScript((key) => localStorage.setItem(key, '1'), GUIDE_DISMISSED);
  return openIn(context, BASE + hash, { init });
}

export const ready = (page) => page.waitForSelector('#status-text[data-ready="true"]', { timeout: LOAD_TIMEOUT });

/** Waits until no run is in progress and at least `chips` chips show. */
export async function idle(page, chips = 1) {
  await page.waitForFunction((n) => {
    const s = document.querySelector('#status-text');
    return s && s.dataset.running === 'false' && document.querySelectorAll('.chip').length >= n && !s.textContent.startsWith('Reading');
  }, chips, { timeout: RUN_TIMEOUT });
}

/** Sets the numeric setting labelled `label` to `value`. */
export async function setSetting(page, label, value) {
  const input = page.locator('.setting', { hasText: label }).locator('input');
  await input.fill(value);
  await input.dispatchEvent('change');
}

/**
 * Waits for the model, runs `prompt` with `newTokens` new tokens, `decoding` (left as it is when
 * null) and `seed` (when given), and waits until the run is over and at least `chips` chips show.
 */
export async function run(page, prompt, { newTokens = 0, decoding = 'greedy', seed, chips = 1 } = {}) {
  await ready(page);
  await idle(page, 0);
  await page.fill('#prompt', prompt);
  await setSetting(page, 'New tokens', String(newTokens));
  if (decoding !== null) await page.locator('.setting', { hasText: 'Decoding' }).locator('select').selectOption(decoding);
  if (seed !== undefined) await setSetting(page, 'Seed', String(seed));
  const before = await page.evaluate(() => document.querySelector('#status-text').textContent);
  await page.click('#run');
  await page.waitForFunction((b) => document.querySelector('#status-text').textContent !== b, before);
  await idle(page, chips);
  await drawn(page);
}

/** Picks option `index` of the maps panel's `what` (Layer, Head, …) select. */
export async function pick(page, what, index) {
  // The label starts with its name (others, like "Show", mention layers in their options).
  const select = page.locator('.maps-panel label', { hasText: new RegExp(`^\\s*${what}`) }).locator('select');
  await select.selectOption(String(index));
  await drawn(page);
}

/** The page's workers but the threaded inference worker's pool threads, which sleep blocked
 * between passes (nothing can be evaluated in them then). */
export const appWorkers = (page) => page.workers().filter((w) => !w.url().endsWith('/headlight-pool.js'));

/** The page's worker named `name`: `inference` runs the model, `views` keeps the captures and
 * answers what the page draws. */
export async function worker(page, name = 'inference') {
  for (let i = 0; i < 100; i++) {
    for (const w of appWorkers(page)) {
      if ((await w.evaluate(() => self.name).catch(() => null)) === name) return w;
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`the page has no ${name} worker`);
}

/** Waits until nothing on the page waits for the views worker (no `aria-busy="true"` left). */
export const drawn = (page) => page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));

/** The page's address once its link matches `re` (a pinned token or a moved window rewrites the
 * link when the view has been quiet for a moment). */
export async function address(page, re) {
  await page.waitForFunction((source) => new RegExp(source).test(location.href), re.source);
  return page.url();
}

export const chipIds = (page) => page.$$eval('.chip', (cs) => cs.map((c) => Number(c.dataset.tokenId)));

/** A full-page screenshot, OUTPUT/<name>.png. */
export const shot = (page, name) => page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is (WCAG 2.x A and AA rules and
 * best practices), each as "rule: nodes". Evaluated through the DevTools protocol, which the
 * page's Content-Security-Policy does not govern.
 */
export async function accessibilityViolations(page) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help}; ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  return violations;
}

/**
 * The cells of the maps matching `maps` (an SVG selector), as each map's markup lists them in
 * `data-cells` (`query,key,weight`, a pooled block's positions as `first-end`, end excluded):
 * `{ layer, head, map, query: [first, end], key: [first, end], value, exact }`.
 */
export const cells = (page, maps = 'svg.heatmap') =>
  page.$$eval(`${maps} g.weights`, (groups) => groups.flatMap((g) => {
    const svg = g.closest('svg');
    const span = (s) => (s.includes('-') ? s.split('-').map(Number) : [Number(s), Number(s) + 1]);
    return g.dataset.cells.split(' ').filter(Boolean).map((entry) => {
      const [q, k, value] = entry.split(',');
      return { layer: Number(g.dataset.layer), head: Number(g.dataset.head), map: svg.dataset.map, query: span(q), key: span(k), value: Number(value), exact: !q.includes('-') && !k.includes('-') };
    });
  }));

/**
 * The weight a map drawn of `maps` shows for query `q` over key `k`; filter by `layer` and
 * `head`. Waits for the maps asked to be drawn, then for a map that lists the cell (a run still
 * streaming draws it once the query is read), and gives `null` after `timeout` ms without one.
 */
export async function weight(page, q, k, { maps = 'svg.heatmap', layer, head, timeout = RUN_TIMEOUT } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    await drawn(page);
    const found = (await cells(page, maps)).find((c) => c.exact && c.query[0] === q && c.key[0] === k && (layer === undefined || c.layer === layer) && (head === undefined || c.head === head));
    if (found) return found.value;
    if (Date.now() > deadline) return null;
    await page.waitForTimeout(100);
  }
}

/**
 * Where the cell of query `q` and key `k` lies in the detailed map `map`, scrolled into view: in
 * the map's own units (`x`, `y`, `size`) and its centre on the page (`pageX`, `pageY`). It
 * follows from the map's frame and the windows it shows (`data-window`, `data-keys`).
 */
export const cellBox = (page, q, k, map = 'svg.heatmap') =>
  page.$eval(map, (svg, [q, k]) => {
    svg.scrollIntoView({ block: 'center' });
    const frame = svg.querySelector('rect.frame');
    const [w0, w1] = svg.dataset.window.split('-').map(Number);
    const [k0] = svg.dataset.keys.split('-').map(Number);
    const size = frame.width.baseVal.value / (w1 - w0);
    const [x, y] = [frame.x.baseVal.value + (k - k0) * size, frame.y.baseVal.value + (q - w0) * size];
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    return { x, y, size, pageX: box.left + (x + size / 2) * scale, pageY: box.top + (y + size / 2) * scale };
  }, [q, k]);

/** Clicks the cell of query `q` and key `k` in the detailed map `map`, where it is drawn. */
export async function clickCell(page, q, k, map = 'svg.heatmap') {
  const { pageX, pageY } = await cellBox(page, q, k, map);
  await page.mouse.click(pageX, pageY);
}
