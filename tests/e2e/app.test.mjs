// End-to-end tests of the built page (dist/) in headless Chromium. run.sh builds and serves it
// and sets HEADLIGHT_URL; screenshots go to OUTPUT_DIR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_TIMEOUT, useBrowser, open, ready, idle, run, setSetting, pick, chipIds, shot, readFixture, drawn, address, cells, weight, clickCell } from './common.mjs';

const fixture = readFixture('mini');

useBrowser();

const chipLabels = (page) => page.$$eval('.chip', (cs) => cs.map((c) => c.textContent));

async function cellValue(page, layer, head, q, k) {
  const v = await weight(page, q, k, { layer, head });
  assert.notEqual(v, null, `cell L${layer} H${head} q${q} k${k} is drawn`);
  return v;
}

test('the page loads the bundled model by itself and shows the default prompt\'s attention', async () => {
  const started = Date.now();
  const page = await open();
  await ready(page);
  await page.waitForSelector('svg.heatmap path.cell', { timeout: RUN_TIMEOUT });
  console.log(`time to first heatmap: ${Date.now() - started} ms`);
  await idle(page);
  assert.ok((await page.$$('.chip')).length > 10);
  await shot(page, 'desktop-light-default');
  assert.deepEqual(page.errors, []);
});

test('chips and heatmap cells match the reference capture', async () => {
  const page = await open();
  const reference = fixture.cases[1];
  await run(page, reference.prompt);
  assert.deepEqual(await chipIds(page), reference.ids);
  for (const [layer, head, q, k] of [[0, 0, 0, 0], [0, 1, 5, 2], [1, 2, 13, 0], [3, 3, 13, 12], [2, 0, 7, 7]]) {
    await pick(page, 'Layer', layer);
    await pick(page, 'Head', head);
    const shown = await cellValue(page, layer, head, q, k);
    assert.ok(Math.abs(shown - reference.attentions[layer][head][q][k]) < 1e-4, `L${layer} H${head} q${q} k${k}: ${shown}`);
  }
  // whitespace is visible in the labels
  assert.ok((await chipLabels(page)).some((l) => l.startsWith('␣')));
});

test('the page runs the relaxed-SIMD worker where Chromium has it, the simd128 one when told, and both match the reference', async () => {
  const reference = fixture.cases[1];
  for (const [simd, init] of [['relaxed-simd', undefined], ['simd128', () => localStorage.setItem('headlight.simd', 'simd128')]]) {
    const page = await open('', { init });
    await ready(page);
    assert.equal(await page.getAttribute('#status-text', 'data-kernels'), simd, `the ${simd} build is running`);
    // the bundled checkpoint is f16, and the kernels keep its weights so
    // (and where the page is isolated, the relaxed build's threads say how many run)
    const threads = Number(await page.getAttribute('#status-text', 'data-threads'));
    assert.ok(simd === 'relaxed-simd' || threads === 1, 'the simd128 build runs on one thread');
    const engine = ` · ${simd} kernels on f16 weights${threads > 1 ? `, ${threads} threads` : ''}`;
    assert.ok((await page.textContent('#model-loaded')).endsWith(engine), engine);
    await run(page, reference.prompt);
    for (const [layer, head, q, k] of [[0, 1, 5, 2], [3, 3, 13, 12], [5, 7, 13, 4]]) {
      await pick(page, 'Layer', layer);
      await pick(page, 'Head', head);
      const shown = await cellValue(page, layer, head, q, k);
      assert.ok(Math.abs(shown - reference.attentions[layer][head][q][k]) < 1e-4, `${simd}: L${layer} H${head} q${q} k${k}: ${shown}`);
    }
    assert.deepEqual(page.errors, []);
    await page.close();
  }
});

test('clicking a chip pins it, shades the stream by its row and highlights it in the heatmap', async () => {
  const page = await open();
  const reference = fixture.cases[1];
  await run(page, reference.prompt);
  await pick(page, 'Layer', 1);
  await pick(page, 'Head', 2);
  await page.click('.chip[data-token-index="6"]');
  assert.equal(await page.getAttribute('.chip[data-token-index="6"]', 'aria-pressed'), 'true');
  await page.mouse.move(0, 0);
  await drawn(page);
  const weights = await page.$$eval('.chip', (cs) => cs.map((c) => (c.dataset.weight === undefined ? null : Number(c.dataset.weight))));
  const row = reference.attentions[1][2][6];
  weights.forEach((w, k) => {
    if (k <= 6) assert.ok(Math.abs(w - row[k]) < 1e-4, `key ${k}: ${w} vs ${row[k]}`);
    else assert.equal(w, null, `key ${k} comes after the query`);
  });
  assert.equal(await page.locator('svg.heatmap-marks .band').count(), 2, 'row and column highlighted');
  assert.equal(await page.textContent('svg.heatmap-marks .axis-label.selected'), (await chipLabels(page))[6].slice(0, 9));
  // attended-by reads the column
  await page.click('.toggle');
  await drawn(page);
  const column = await page.$$eval('.chip', (cs) => cs.map((c) => (c.dataset.weight === undefined ? null : Number(c.dataset.weight))));
  column.forEach((w, q) => {
    if (q >= 6) assert.ok(Math.abs(w - reference.attentions[1][2][q][6]) < 1e-4);
    else assert.equal(w, null);
  });
  // arrows move the pin, Esc clears it; a cell click pins its query
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('.chip[data-token-index="7"]', 'aria-pressed'), 'true');
  // the bold labels move with the pin: both axes' labels of token 7, and only those
  const bold = () => page.$$eval('svg.heatmap-marks .axis-label.selected', (ls) => ls.map((l) => l.dataset.tokenIndex));
  await page.waitForFunction(() => document.querySelector('svg.heatmap-marks .axis-label.selected')?.dataset.tokenIndex === '7');
  assert.deepEqual(await bold(), ['7', '7']);
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('.chip[aria-pressed="true"]').count(), 0);
  await page.waitForFunction(() => !document.querySelector('svg.heatmap-marks .axis-label.selected'));
  await clickCell(page, 9, 3);
  assert.equal(await page.getAttribute('.chip[data-token-index="9"]', 'aria-pressed'), 'true');
  await shot(page, 'desktop-light-selected');
});

test('the views switch between head, block, layer and overview, and back walks them', async () => {
  const page = await open();
  await run(page, fixture.cases[0].prompt);
  const maps = () => page.locator('svg.heatmap').count();
  assert.equal(await maps(), 1);
  await page.click('.tab[data-mode="block"]');
  await drawn(page);
  assert.equal(await maps(), 8, 'all 8 heads of the layer');
  const block = await cells(page);
  assert.equal(block.filter((c) => c.layer === 0 && c.head === 3 && c.exact).length, 10, 'exact cells for a short prompt');
  assert.ok((await page.locator('svg.heatmap path.cell').count()) <= 8 * 64, 'a path per colour level, not per cell');
  await page.click('.tab[data-mode="layer"]');
  await drawn(page);
  assert.equal(await maps(), 6, 'the head in each of the 6 layers');
  await page.click('.tab[data-mode="overview"]');
  await drawn(page);
  assert.equal(await maps(), 48);
  await shot(page, 'desktop-light-overview');
  await page.click('button.open-map[aria-label$="open layer 2, head 1"]');
  await drawn(page);
  assert.equal(await maps(), 1);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-layer'), '2');
  await page.goBack();
  await page.waitForFunction(() => document.querySelectorAll('svg.heatmap').length === 48);
  await page.goBack();
  await page.waitForFunction(() => document.querySelector('.tab[aria-selected="true"]').dataset.mode === 'layer');
});

test('generation streams its steps, matches the greedy reference, and the timeline scrubs', async () => {
  const page = await open();
  const reference = fixture.cases[0];
  await run(page, reference.prompt, { newTokens: 12 });
  const ids = await chipIds(page);
  assert.deepEqual(ids.slice(0, reference.ids.length), reference.ids);
  const generated = ids.slice(reference.ids.length);
  assert.ok(generated.length >= 1);
  assert.deepEqual(generated, reference.greedy_12.slice(0, generated.length));
  assert.equal(await page.locator('.chip.generated').count(), generated.length);
  const entries = await page.evaluate(() => history.length);
  await page.click('button[aria-label="First step"]');
  assert.equal(await page.locator('.chip').count(), reference.ids.length);
  await page.click('button[aria-label="Next step"]');
  assert.equal(await page.locator('.chip').count(), reference.ids.length + 1);
  assert.match(await page.textContent('.step-label'), /^step 1 of /);
  await address(page, /&st=1/);
  assert.equal(await page.evaluate(() => history.length), entries, 'moving along the timeline replaces the history entry');
  await page.click('button[aria-label="Play"]');
  await page.waitForFunction((n) => document.querySelectorAll('.chip').length === n, ids.length, { timeout: 20_000 });
});

/** Clicks Cancel from inside the page as soon as a generated token shows (now, or at the next
 * change to the page), so the click lands while the run is still generating, however fast
 * generation is; resolves once it is clicked. */
const cancelAtFirstToken = (page) => page.evaluate(() => new Promise((done) => {
  const cancel = () => {
    if (!document.querySelector('.chip.generated')) return false;
    document.querySelector('#cancel').click();
    return true;
  };
  if (cancel()) return done();
  const watch = new MutationObserver(() => {
    if (cancel()) {
      watch.disconnect();
      done();
    }
  });
  watch.observe(document.body, { childList: true, subtree: true });
}));

test('Cancel stops generation between steps, and a newer Run supersedes an older one', async () => {
  const page = await open();
  await run(page, 'Hello', { newTokens: 0 });
  await setSetting(page, 'New tokens', '200');
  await page.click('#run');
  await cancelAtFirstToken(page);
  await page.waitForFunction(() => document.querySelector('#status-text').textContent.startsWith('Cancelled'), null, { timeout: RUN_TIMEOUT });
  const made = await page.locator('.chip.generated').count();
  assert.ok(made >= 1 && made < 200, `${made} tokens generated before the cancel`);

  await page.fill('#prompt', 'First run');
  await page.click('#run');
  await page.fill('#prompt', 'Second');
  await page.click('#run');
  await cancelAtFirstToken(page);
  await idle(page);
  assert.equal(await page.$$eval('.chip:not(.generated)', (cs) => cs.map((c) => c.textContent).join('')), 'Second');
});

test('a long prompt shows an exact window in detail and pooled thumbnails', async () => {
  const page = await open();
  const reference = fixture.cases[6];
  await run(page, reference.prompt);
  assert.equal(await page.locator('.chip').count(), reference.ids.length);
  await page.click(`.chip[data-token-index="40"]`);
  await drawn(page);
  const window = await page.getAttribute('svg.heatmap', 'data-window');
  assert.equal(window, '16-64');
  assert.ok(Math.abs((await cellValue(page, 0, 0, 40, 20)) - reference.attentions[0][0][40][20]) < 1e-4);
  assert.equal((await cells(page)).length, 48 * 49 / 2, 'the window of the last 48 queries and keys');
  await page.click('.tab[data-mode="block"]');
  await drawn(page);
  // 76 positions in at most 48 bins: blocks of two positions carry a mean, single ones their value
  const head0 = (await cells(page)).filter((c) => c.head === 0);
  assert.ok(head0.some((c) => !c.exact), 'some cells are pooled');
  assert.ok(head0.length <= 48 * 49 / 2);
  await shot(page, 'desktop-light-long-block');
});

test('a permalink reopens the same text and view in a fresh page', async () => {
  const page = await open();
  await run(page, 'Attention is all you need. It', { newTokens: 8, decoding: 'sample', seed: 7 });
  await page.click('.tab[data-mode="layer"]');
  await drawn(page);
  await pick(page, 'Head', 3);
  await page.click('.chip[data-token-index="4"]');
  await page.click('button[aria-label="Previous step"]');
  await page.click('button[aria-label="Previous step"]');
  await page.click('#copy-link');
  const url = page.url();
  assert.match(url, /#v=1&/);
  const labels = await chipLabels(page);
  const value = await cellValue(page, 3, 3, 4, 1);

  const again = await open(new URL(url).hash);
  await ready(again);
  await idle(again, labels.length);
  assert.deepEqual(await chipLabels(again), labels);
  assert.equal(await again.getAttribute('.tab[aria-selected="true"]', 'data-mode'), 'layer');
  assert.equal(await again.getAttribute('.chip[data-token-index="4"]', 'aria-pressed'), 'true');
  assert.equal(await again.textContent('.step-label'), await page.textContent('.step-label'));
  assert.equal(await cellValue(again, 3, 3, 4, 1), value);
  assert.equal(await again.inputValue('#prompt'), 'Attention is all you need. It');
  assert.equal(new URL(again.url()).hash, new URL(url).hash);
});

test('a garbage permalink shows a message, keeps the prompt, and the app stays usable', async () => {
  const page = await open('#v=9&p=Recovered%20prompt&l=zz');
  await ready(page);
  assert.match(await page.textContent('#notice-text'), /version "9"/);
  assert.equal(await page.inputValue('#prompt'), 'Recovered prompt');
  await idle(page);
  await shot(page, 'desktop-light-bad-link');
  const promptChips = await page.$$eval('.chip:not(.generated)', (cs) => cs.map((c) => c.textContent).join(''));
  assert.equal(promptChips, 'Recovered␣prompt');
  await run(page, 'Still works', { newTokens: 2 });
  assert.ok((await page.locator('.chip').count()) >= 2);
  assert.deepEqual(page.errors, []);

  const broken = await open('#%%%garbage');
  await ready(broken);
  assert.match(await broken.textContent('#notice-text'), /no version/);
  await run(broken, 'Hello', { newTokens: 1 });
  assert.ok((await broken.locator('.chip').count()) >= 1);
});

test('screenshots: desktop and phone, light and dark', async () => {
  for (const [name, size] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    for (const colorScheme of ['light', 'dark']) {
      const page = await open('', { ...size, colorScheme });
      await ready(page);
      await idle(page);
      await page.click('.chip[data-token-index="3"]');
      await shot(page, `${name}-${colorScheme}`);
      await page.click('.tab[data-mode="block"]');
      await drawn(page);
      await shot(page, `${name}-${colorScheme}-block`);
    }
  }
});
