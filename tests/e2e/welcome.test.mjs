// The first minute on the page and its accessibility: the default prompt already run with the
// head worth seeing open (chosen from the head roles of that run, checked here against the
// PyTorch reference's own attention), the guide line and its dismissal, keyboard use of the
// stream and the maps, and axe-core on the main states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, ready, idle, run, pick, shot, readFixture, accessibilityViolations, address, drawn, cells } from './common.mjs';

useBrowser();
const fixture = readFixture('mini');

/** The induction score of one head on `ids`, from a `[query][key]` pattern (as src/analysis/roles.rs defines it). */
function inductionScore(pattern, ids) {
  let [on, total] = [0, 0];
  for (let q = 0; q < ids.length; q++) {
    const marked = [];
    for (let k = 1; k <= q; k++) if (ids[k - 1] === ids[q]) marked.push(k);
    if (marked.length === 0) continue;
    on += marked.reduce((s, k) => s + pattern[q][k], 0);
    total += pattern[q].slice(0, q + 1).reduce((a, b) => a + b, 0);
  }
  return total > 0 ? on / total : null;
}

test('first open: the default prompt is run, a head picked from its roles is open, and the guide says what to try', async () => {
  const page = await open('', { firstVisit: true });
  await ready(page);
  await idle(page, 2);
  await page.waitForSelector('#guide-head');
  const guide = await page.textContent('#guide');
  assert.match(guide, /click a token/);
  assert.match(guide, /By block/);
  assert.match(guide, /step through generation/);
  const said = await page.textContent('#guide-head');
  const [, layer, head, role] = said.match(/^Showing layer (\d+), head (\d+), the strongest (induction|previous-token) head on this text/) ?? [];
  assert.ok(layer !== undefined, said);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-layer'), layer);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-head'), head);
  assert.match(page.url(), new RegExp(`&l=${layer}&h=${head}(&|$)`));
  // a head that parks most of its attention on the first token opens with that weight hidden
  assert.equal(await page.isChecked('#hide-sink'), /first token, so that weight is hidden/.test(said));
  await page.mouse.move(0, 0);
  await shot(page, 'welcome-first-open');
  // the head picked leads its role in the roles table, and its score there is the one the
  // cells of its map give
  await page.click('.analysis-panel .tab[data-panel="roles"]');
  await drawn(page);
  await page.click(`button.sort[data-sort="${role === 'induction' ? 'induction' : 'previous'}"]`);
  await drawn(page);
  const first = page.locator('#role-table tbody tr').first();
  assert.deepEqual([await first.getAttribute('data-layer'), await first.getAttribute('data-head')], [layer, head]);
  const prompt = await page.inputValue('#prompt');
  if (role === 'induction') {
    // the score is of the head's own weights: the first token's share shown again
    if (await page.isChecked('#hide-sink')) await page.uncheck('#hide-sink');
    const ids = await page.$$eval('.chip', (cs) => cs.map((c) => Number(c.dataset.tokenId)));
    const pattern = Array.from({ length: ids.length }, () => new Array(ids.length).fill(0));
    for (const c of await cells(page)) if (c.layer === Number(layer) && c.head === Number(head) && c.exact && c.query[0] < ids.length) pattern[c.query[0]][c.key[0]] = c.value;
    const shown = Number(said.match(/score (0\.\d+)/)[1]);
    assert.ok(Math.abs(inductionScore(pattern, ids) - shown) < 0.006, `${inductionScore(pattern, ids)} vs ${shown}`);
  }
  console.log(`first open: “${prompt}” — ${said}`);

  // keyboard alone: the guide's button dismisses it, for good
  await page.focus('#guide-dismiss');
  await page.keyboard.press('Enter');
  await drawn(page);
  await page.waitForSelector('#guide', { state: 'detached' });
  await page.reload();
  await ready(page);
  await idle(page, 2);
  assert.equal(await page.locator('#guide').count(), 0, 'a dismissed guide does not come back');
  assert.deepEqual(page.errors, []);
});

test('a link opens without the guide and keeps its own head', async () => {
  const page = await open('#v=1&m=mini&p=Hello%20world&n=0&d=g&vm=head&l=1&h=3', { firstVisit: true });
  await ready(page);
  await idle(page, 2);
  assert.equal(await page.locator('#guide').count(), 0);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-head'), '3');
  assert.equal(await page.getAttribute('svg.heatmap', 'data-layer'), '1');
});

test('the stream and the detailed map work from the keyboard alone', async () => {
  const page = await open();
  await run(page, fixture.cases[1].prompt);
  await pick(page, 'Layer', 2);
  await pick(page, 'Head', 1);
  // a chip takes focus and Enter pins it; the arrows move the pinned token
  await page.focus('.chip[data-token-index="3"]');
  await page.keyboard.press('Enter');
  await drawn(page);
  assert.equal(await page.getAttribute('.chip[data-token-index="3"]', 'aria-pressed'), 'true');
  await page.keyboard.press('ArrowRight');
  await drawn(page);
  assert.equal(await page.getAttribute('.chip[data-token-index="4"]', 'aria-pressed'), 'true');
  // the detailed map: up/down move the query, left/right the key; the readout says the cell
  await page.focus('svg.heatmap');
  await page.keyboard.press('ArrowDown');
  await drawn(page);
  await page.keyboard.press('ArrowLeft');
  await drawn(page);
  assert.equal(await page.getAttribute('.chip[data-token-index="5"]', 'data-pair'), 'query');
  assert.equal(await page.getAttribute('.chip[data-token-index="3"]', 'data-pair'), 'key');
  const weight = fixture.cases[1].attentions[2][1][5][3].toFixed(4);
  assert.match(await page.textContent('.readout'), new RegExp(`query 5 .* → key 3 .*: ${weight}`));
  await address(page, /&q=5&ky=3(&|$)/);
  // the key cannot pass the query: the causal mask leaves nothing there
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('.chip[data-token-index="5"]', 'data-pair'), 'query');
  assert.equal(await page.getAttribute('.chip[data-token-index="5"]', 'aria-pressed'), 'true');
  // the overview's maps open by keyboard
  await page.click('.tab[data-mode="overview"]');
  await drawn(page);
  await page.focus('button.open-map[aria-label$="open layer 2, head 4"]');
  await page.keyboard.press('Enter');
  await drawn(page);
  assert.equal(await page.getAttribute('svg.heatmap', 'data-head'), '4');
  assert.deepEqual(page.errors, []);
});

test('axe-core finds no serious or critical violation in the main states', async () => {
  const checked = [];
  for (const [name, options] of [['desktop-light', {}], ['desktop-dark', { colorScheme: 'dark' }], ['phone', { width: 390, height: 844 }]]) {
    const page = await open('', { ...options, firstVisit: true });
    await ready(page);
    await idle(page, 2);
    const check = async (state) => {
      await page.mouse.move(0, 0);
      const violations = await accessibilityViolations(page);
      checked.push(`${name} ${state}`);
      assert.deepEqual(violations, [], `${name}, ${state}`);
    };
    await check('first open');
    for (const mode of ['head', 'block', 'layer', 'overview', 'lines', 'positions', 'compare']) {
      await page.click(`.tab[data-mode="${mode}"]`);
      await drawn(page);
      if (mode === 'positions') await page.waitForSelector('svg.similarity');
      await check(`${mode} view`);
    }
    await page.click('.tab[data-mode="head"]');
    await drawn(page);
    await page.click('.chip[data-token-index="2"]');
    await drawn(page);
    await check('a token selected');
    for (const panel of ['roles', 'predictions', 'inside', 'ablation']) {
      await page.click(`.analysis-panel .tab[data-panel="${panel}"]`);
      await drawn(page);
      await check(`${panel} panel`);
    }
    await page.click('.analysis-panel .tab[data-panel="roles"]');
    await drawn(page);
    await page.click('#repeat-test');
    await drawn(page);
    await page.waitForSelector('#repeat-summary', { timeout: 120_000 });
    await check('repeat test');
    await page.selectOption('#model-choice', 'typed');
    await drawn(page);
    await check('model panel, Hub choice');
    await page.close();
  }
  console.log(`axe-core: no serious or critical violation in ${checked.length} states`);
});

test('the repeat test draws from the vocabulary or from the prompt, and says which', async () => {
  const page = await open();
  await run(page, fixture.cases[6].prompt);
  await page.click('.analysis-panel .tab[data-panel="roles"]');
  await drawn(page);
  await page.click('#repeat-test');
  await drawn(page);
  await page.waitForSelector('#repeat-summary', { timeout: 120_000 });
  assert.match(await page.textContent('#repeat-summary'), /^50 random tokens of the whole vocabulary, then the same 50 again\. Highest induction scores: L\d H\d \(0\.\d\d\)/);
  const vocabulary = await page.textContent('#repeat-summary');
  await page.selectOption('#repeat-pool', 'prompt');
  await drawn(page);
  await page.waitForSelector('#repeat-summary:has-text("the prompt\'s tokens")', { timeout: 120_000 });
  const fromPrompt = await page.textContent('#repeat-summary');
  const distinct = new Set(fixture.cases[6].ids).size;
  assert.match(fromPrompt, new RegExp(`^${Math.min(50, distinct)} of the prompt's tokens in a random order, then the same ${Math.min(50, distinct)} again\\.`));
  await address(page, /&rp=prompt(&|$)/);
  console.log(`repeat test, vocabulary: ${vocabulary}`);
  console.log(`repeat test, prompt: ${fromPrompt}`);
  // each score says what it is
  assert.match(await page.getAttribute('button.sort[data-sort="induction"]', 'title'), /Olsson et al\. 2022/);
  await page.click('.role-definitions summary');
  await drawn(page);
  assert.match(await page.textContent('.role-definitions'), /previous_token_head/);
  await shot(page, 'welcome-repeat-prompt');
  assert.deepEqual(page.errors, []);
});
