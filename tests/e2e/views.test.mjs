// End-to-end tests of the views beyond the heatmaps: the pinned query/key pair, the movable
// detailed window, the line view, the word view, positional encodings, compare, export, and
// their permalinks. run.sh builds and serves the page and sets HEADLIGHT_URL; screenshots go
// to OUTPUT_DIR. Expected values come from the PyTorch reference (tests/fixtures/mini.json) or
// are computed here from their published definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RUN_TIMEOUT, useBrowser, open as openPage, ready, idle, run as runWith, pick, shot, readFixture, address, drawn, cells, weight, cellBox, clickCell } from './common.mjs';

const fixture = readFixture('mini');
const close = (a, b, tolerance = 1e-4) => Math.abs(a - b) < tolerance;

useBrowser();

/** A fresh page (own context) at BASE + hash; page errors are collected on `page.errors`. */
const open = (hash = '', options = {}) => openPage(hash, { ...options, acceptDownloads: true });

/** Runs `prompt` with no generated tokens (the decoding left as it is). */
const run = (page, prompt) => runWith(page, prompt, { decoding: null });

const mode = async (page, name) => {
  await page.click(`.tab[data-mode="${name}"]`);
  await drawn(page);
};
const number = (page, selector, attribute) => page.getAttribute(selector, attribute).then(Number);

/** The file a click on `selector` downloads. */
async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: RUN_TIMEOUT }), page.click(selector)]);
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
}

test('a clicked cell pins its query and key in the token stream and the link', async () => {
  const page = await open();
  const reference = fixture.cases[1];
  await run(page, reference.prompt);
  await pick(page, 'Layer', 2);
  await pick(page, 'Head', 1);
  await clickCell(page, 9, 3);
  await drawn(page);
  assert.equal(await page.getAttribute('.chip[data-token-index="9"]', 'data-pair'), 'query');
  assert.equal(await page.getAttribute('.chip[data-token-index="3"]', 'data-pair'), 'key');
  assert.equal(await page.locator('.chip[data-pair]').count(), 2);
  await address(page, /&q=9&ky=3(&|$)/);
  // the highlighted column is the key's
  const band = await page.$$eval('svg.heatmap-marks .band', (bs) => bs.map((b) => [Number(b.getAttribute('x')), Number(b.getAttribute('width'))]));
  const cell = await cellBox(page, 9, 3);
  assert.ok(band.some(([x, w]) => Math.abs(x - cell.x) < 1e-3 && Math.abs(w - cell.size) < 1e-3), `a band over key 3: ${JSON.stringify(band)}`);
  assert.ok(close(await weight(page, 9, 3), reference.attentions[2][1][9][3]));
  await page.mouse.move(0, 0);
  await shot(page, 'views-pair');
  // a chip click pins one token again
  await page.click('.chip[data-token-index="5"]');
  await drawn(page);
  assert.equal(await page.locator('.chip[data-pair]').count(), 0);
  await page.waitForFunction(() => !location.hash.includes('ky='));
  assert.deepEqual(page.errors, []);
});

test('the detailed window moves apart from the selection, by minimap and by keyboard', async () => {
  const page = await open();
  const reference = fixture.cases[6];
  await run(page, reference.prompt);
  await page.click('.chip[data-token-index="70"]');
  await drawn(page);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-window'), '28-76');
  assert.equal(await page.getAttribute('svg.heatmap', 'data-keys'), '28-76');
  assert.ok(!(await cells(page)).some((c) => c.key[0] === 0), 'the sink is outside the window');
  // keys back to the first token: query 70 against key 0, the attention sink
  await page.locator('#pan-keys').fill('0');
  await drawn(page);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-keys'), '0-48');
  assert.equal(await page.getAttribute('svg.heatmap', 'data-window'), '28-76');
  assert.ok(close(await weight(page, 70, 0), reference.attentions[0][0][70][0]));
  // queries 28 to 75 over keys 0 to 47: each query sees the keys up to itself
  const visible = Array.from({ length: 48 }, (_, i) => Math.min(28 + i + 1, 48)).reduce((a, b) => a + b, 0);
  assert.equal((await cells(page)).length, visible);
  await address(page, /&w=28\.0(&|$)/);
  await shot(page, 'views-window-keys');
  // the keyboard moves the query window
  await page.focus('#pan-queries');
  await page.keyboard.press('ArrowLeft');
  await drawn(page);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-window'), '27-75');
  // a click on the minimap's top-left corner moves both windows to the start
  const box = await page.locator('svg.minimap').boundingBox();
  await page.mouse.click(box.x + 2, box.y + 2);
  await drawn(page);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-window'), '0-48');
  assert.equal(await page.getAttribute('svg.heatmap', 'data-keys'), '0-48');
  // and the window follows the selection again on request
  await page.click('#pan-follow');
  await drawn(page);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-window'), '28-76');
  assert.deepEqual(page.errors, []);
});

test('the line view joins queries to keys weighted by attention, and a focus keeps its links', async () => {
  const page = await open();
  const reference = fixture.cases[1];
  await run(page, reference.prompt);
  await pick(page, 'Layer', 1);
  await pick(page, 'Head', 3);
  await mode(page, 'lines');
  const n = reference.ids.length;
  assert.equal(await page.locator('svg.lines .node[data-side="query"]').count(), n);
  assert.equal(await page.locator('svg.lines .node[data-side="key"]').count(), n);
  const all = await page.$$eval('svg.lines .link', (ls) => ls.map((l) => [Number(l.dataset.query), Number(l.dataset.key), Number(l.dataset.weight)]));
  const expected = reference.attentions[1][3].flatMap((row, q) => row.slice(0, q + 1).map((w, k) => [q, k, w])).filter(([, , w]) => w >= 0.01);
  assert.equal(all.length, expected.length, 'one line per weight of at least 0.01');
  for (const [q, k, w] of all) assert.ok(close(w, reference.attentions[1][3][q][k]), `line ${q}→${k}`);
  await shot(page, 'views-lines-all');
  // clicking a query pins it: only its links remain, the strongest fully opaque
  await page.click('svg.lines .node[data-side="query"][data-token-index="12"]');
  await drawn(page);
  await page.mouse.move(0, 0);
  const focused = await page.$$eval('svg.lines .link', (ls) => ls.map((l) => [Number(l.dataset.query), Number(l.dataset.key), Number(l.getAttribute('stroke-opacity'))]));
  assert.ok(focused.length > 0 && focused.every(([q]) => q === 12));
  assert.equal(Math.max(...focused.map(([, , o]) => o)), 1);
  const row = reference.attentions[1][3][12];
  const strongest = Math.max(...row);
  for (const [, k, opacity] of focused) assert.ok(close(opacity, row[k] / strongest, 2e-3), `key ${k}: ${opacity}`);
  assert.equal(await page.getAttribute('.chip[data-token-index="12"]', 'aria-pressed'), 'true');
  await shot(page, 'views-lines-focus');
  assert.deepEqual(page.errors, []);
});

test('the word view merges pieces: sum over key pieces, mean over query pieces', async () => {
  const page = await open();
  const reference = fixture.cases[4];
  // alpha beta gamma delta e|ps|ilon, twice: epsilon is three pieces
  const words = [[0], [1], [2], [3], [4, 5, 6], [7], [8], [9], [10], [11, 12, 13]];
  await run(page, reference.prompt);
  await pick(page, 'Layer', 2);
  await pick(page, 'Head', 0);
  await page.check('#word-view');
  await drawn(page);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-units'), 'words');
  const labels = await page.$$eval('svg.heatmap-marks text.axis-label[x]', (ts) => ts.map((t) => t.textContent));
  assert.equal(labels.length, words.length);
  assert.equal(labels[4], '␣epsilon');
  const A = reference.attentions[2][0];
  const merged = (a, b) => words[a].reduce((sum, q) => sum + words[b].filter((k) => k <= q).reduce((s, k) => s + A[q][k], 0), 0) / words[a].length;
  for (const [a, b] of [[4, 4], [4, 0], [9, 4], [9, 9], [5, 4]]) {
    const shown = await weight(page, a, b);
    assert.ok(close(shown, merged(a, b)), `word ${a} on word ${b}: ${shown} vs ${merged(a, b)}`);
  }
  assert.match(page.url(), /&wv=1/);
  // a word cell pins the words' first pieces
  await clickCell(page, 9, 4);
  await drawn(page);
  assert.equal(await page.getAttribute('.chip[data-token-index="11"]', 'data-pair'), 'query');
  assert.equal(await page.getAttribute('.chip[data-token-index="4"]', 'data-pair'), 'key');
  await page.mouse.move(0, 0);
  await shot(page, 'views-words');
  await page.uncheck('#word-view');
  assert.equal(await page.locator('svg.heatmap-marks text.axis-label[x]').count(), reference.ids.length);
  assert.deepEqual(page.errors, []);
});

test('positions: learned wpe beside the sinusoidal encoding at the same size', async () => {
  const page = await open();
  await ready(page);
  await mode(page, 'positions');
  await page.waitForSelector('svg.similarity[data-encoding="sinusoidal"]');
  const { n_positions: n, n_embd: d } = fixture.config;
  const side = Math.min(64, n);
  for (const encoding of ['learned', 'sinusoidal']) {
    assert.equal(await page.locator(`svg.similarity[data-encoding="${encoding}"] rect.sim`).count(), side * side);
    assert.ok(close(await number(page, `svg.similarity[data-encoding="${encoding}"] rect.sim[data-a="8"][data-b="8"]`, 'data-value'), 1, 1e-5));
  }
  // PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...), compared by cosine
  const pe = (pos) => Array.from({ length: d }, (_, j) => {
    const angle = pos / 10000 ** (2 * Math.floor(j / 2) / d);
    return j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
  });
  const cosine = (a, b) => {
    const dot = (x, y) => x.reduce((s, v, i) => s + v * y[i], 0);
    return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
  };
  const stride = n / side;
  for (const [a, b] of [[0, stride], [stride * 3, stride * 20], [0, n - stride]]) {
    const shown = await number(page, `svg.similarity[data-encoding="sinusoidal"] rect.sim[data-a="${a}"][data-b="${b}"]`, 'data-value');
    assert.ok(close(shown, cosine(pe(a), pe(b))), `positions ${a}, ${b}: ${shown}`);
  }
  const learned = await number(page, `svg.similarity[data-encoding="learned"] rect.sim[data-a="0"][data-b="${stride}"]`, 'data-value');
  assert.ok(learned >= -1 && learned <= 1);
  assert.match(page.url(), /vm=positions/);
  await shot(page, 'views-positions');
  assert.deepEqual(page.errors, []);
});

test('compare: two prompts at the same head, and their difference where tokens line up', async () => {
  const page = await open();
  await run(page, 'The cat sat on the mat.');
  await mode(page, 'compare');
  await page.fill('#compare-prompt', 'The dog sat on the rug.');
  await page.click('#compare-run');
  await drawn(page);
  await page.waitForSelector('svg.heatmap[data-map="difference"]', { timeout: RUN_TIMEOUT });
  await pick(page, 'Layer', 3);
  await pick(page, 'Head', 2);
  const value = (role, q, k) => weight(page, q, k, { maps: `svg.heatmap[data-map="${role}"]` });
  for (const [q, k] of [[0, 0], [3, 1], [6, 0], [6, 5]]) {
    const [a, b, difference] = [await value('main', q, k), await value('compare', q, k), await value('difference', q, k)];
    assert.ok(close(difference, a - b, 1e-6), `q${q} k${k}: ${difference} vs ${a} - ${b}`);
  }
  assert.equal(await page.locator('svg.heatmap-marks[data-map="compare"] text.axis-label[x]').nth(1).textContent(), '␣dog');
  assert.match(page.url(), /&c=The%20dog%20sat%20on%20the%20rug\./);
  await page.mouse.move(0, 0);
  await shot(page, 'views-compare');
  // prompts of other lengths are shown side by side without a difference
  await page.fill('#compare-prompt', 'A much longer second prompt that does not line up at all');
  await page.press('#compare-prompt', 'Enter');
  await page.waitForSelector('.maps-area .hint:has-text("No difference map")', { timeout: RUN_TIMEOUT });
  assert.equal(await page.locator('svg.heatmap[data-map="difference"]').count(), 0);
  assert.equal(await page.locator('svg.heatmap[data-map="compare"]').count(), 1);
  assert.deepEqual(page.errors, []);
});

test('export: the shown maps as SVG and PNG, the capture as the CLI\'s JSON', async () => {
  const page = await open();
  const reference = fixture.cases[0];
  await run(page, reference.prompt);
  await pick(page, 'Layer', 1);
  await pick(page, 'Head', 2);
  const svg = await download(page, '#export-svg');
  assert.equal(svg.name, 'headlight-head-L1-H2.svg');
  const text = svg.bytes.toString('utf8');
  assert.match(text, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  // the cells as the screen draws them (a path per colour level), their weights listed
  const listed = (doc) => [...doc.matchAll(/data-cells="([^"]*)"/g)].flatMap((m) => m[1].split(' ').filter(Boolean));
  assert.equal(listed(text).length, 10, 'one exact cell per weight of 4 tokens');
  assert.ok(close(Number(listed(text).find((c) => c.startsWith('3,1,')).split(',')[2]), reference.attentions[1][2][3][1]), 'the exact value of the cell');
  assert.ok(text.includes('>␣fox</text>') && text.includes('class="cell"'), 'the labels and the cells');
  const png = await download(page, '#export-png');
  assert.equal(png.name, 'headlight-head-L1-H2.png');
  assert.deepEqual([...png.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const json = await download(page, '#export-json');
  const capture = JSON.parse(json.bytes.toString('utf8'));
  assert.equal(capture.schema, 1);
  assert.deepEqual(capture.ids, reference.ids);
  assert.deepEqual(capture.tokens, reference.tokens);
  assert.ok(close(capture.attentions[1][2][3][1], reference.attentions[1][2][3][1]));
  assert.ok(close(capture.last_logits[reference.ids[0]], reference.last_logits[reference.ids[0]], 1e-3));
  await mode(page, 'block');
  const block = (await download(page, '#export-svg')).bytes.toString('utf8');
  assert.equal(listed(block).length, 80, 'eight heads of ten cells');
  assert.deepEqual(page.errors, []);
});

test('the views survive a permalink round trip', async () => {
  const page = await open();
  const reference = fixture.cases[6];
  await run(page, reference.prompt);
  await page.click('.chip[data-token-index="60"]');
  await drawn(page);
  await page.locator('#pan-keys').fill('0');
  await drawn(page);
  await page.check('#word-view');
  await drawn(page);
  await mode(page, 'lines');
  await pick(page, 'Head', 2);
  const url = page.url();
  assert.match(url, /vm=lines/);
  assert.match(url, /&wv=1/);
  assert.match(url, /&w=\d+\.0/);
  const lines = await page.$$eval('svg.lines .link', (ls) => ls.map((l) => `${l.dataset.query}>${l.dataset.key}:${l.dataset.weight}`));

  const again = await open(new URL(url).hash);
  await ready(again);
  await idle(again, reference.ids.length);
  await again.waitForSelector('svg.lines');
  assert.equal(await again.getAttribute('.tab[aria-selected="true"]', 'data-mode'), 'lines');
  assert.equal(await again.isChecked('#word-view'), true);
  assert.deepEqual(await again.$$eval('svg.lines .link', (ls) => ls.map((l) => `${l.dataset.query}>${l.dataset.key}:${l.dataset.weight}`)), lines);
  await mode(again, 'head');
  await again.uncheck('#word-view');
  await drawn(again);
  assert.equal(await again.getAttribute('svg.heatmap', 'data-window'), '28-76');
  assert.equal(await again.getAttribute('svg.heatmap', 'data-keys'), '0-48');
  assert.equal(new URL(again.url()).hash.includes('wv=1'), false, 'unticking the word view takes it out of the link');
  assert.deepEqual(again.errors, []);
});

test('screenshots of the views: desktop and phone, light and dark', async () => {
  const reference = fixture.cases[6];
  for (const [name, size] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    for (const colorScheme of ['light', 'dark']) {
      const page = await open('', { ...size, colorScheme });
      await run(page, reference.prompt);
      await page.click('.chip[data-token-index="70"]');
      await drawn(page);
      await page.locator('#pan-keys').fill('0');
      await drawn(page);
      await page.mouse.move(0, 0);
      await shot(page, `views-${name}-${colorScheme}-window`);
      await mode(page, 'lines');
      await page.mouse.move(0, 0);
      await shot(page, `views-${name}-${colorScheme}-lines`);
      await mode(page, 'positions');
      await page.waitForSelector('svg.similarity');
      await shot(page, `views-${name}-${colorScheme}-positions`);
      await mode(page, 'compare');
      await page.fill('#compare-prompt', 'The Rust programming language helps you write slower, less reliable software. Hi');
      await page.click('#compare-run');
      await drawn(page);
      await page.waitForSelector('svg.heatmap[data-map="compare"]', { timeout: RUN_TIMEOUT });
      await page.mouse.move(0, 0);
      await shot(page, `views-${name}-${colorScheme}-compare`);
      assert.deepEqual(page.errors, []);
    }
  }
});
