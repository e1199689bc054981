// End-to-end tests of the analysis panels: aggregates and their toggles, head roles and the
// repeat test, predictions and the logit lens, inside one head, ablation, and their permalinks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_TIMEOUT, useBrowser, open, ready, idle, run as runWith, shot, readFixture, address, drawn, cells, weight } from './common.mjs';

const fixture = readFixture('mini');
const PROMPT = 'alpha beta gamma delta epsilon alpha beta gamma delta epsilon';
const CASE = fixture.cases.find((c) => c.prompt === PROMPT);

useBrowser();

/** Runs `prompt` greedily with no new tokens. */
const run = (page, prompt) => runWith(page, prompt, { chips: CASE.ids.length });

const cell = (page, q, k) => weight(page, q, k, { maps: '.maps svg.heatmap' });

const panel = (page, name) => page.click(`.analysis-panel .tab[data-panel="${name}"]`);

const close = (a, b, tolerance, what) => assert.ok(Math.abs(a - b) <= tolerance, `${what}: ${a} vs ${b}`);

test('the aggregates and the sink toggle match computations on the reference attention', async () => {
  const page = await open();
  await run(page, PROMPT);
  const A = CASE.attentions; // [layer][head][query][key]
  const mean = (l, q, k) => A[l].reduce((s, h) => s + h[q][k], 0) / A[l].length;
  await page.selectOption('.maps-panel label:has-text("Layer") select', '2');
  await drawn(page);
  await page.selectOption('#source', 'mean');
  await drawn(page);
  await page.waitForSelector('figcaption:has-text("L2 mean")');
  close(await cell(page, 5, 1), mean(2, 5, 1), 1e-4, 'mean over heads');
  await page.selectOption('#source', 'max');
  await drawn(page);
  close(await cell(page, 5, 1), Math.max(...A[2].map((h) => h[5][1])), 1e-4, 'max over heads');
  // rollout to layer 2, with the residual term, computed here from the reference patterns
  const n = CASE.ids.length;
  let rolled = null;
  for (let l = 0; l <= 2; l++) {
    const a = [...Array(n)].map((_, q) => [...Array(n)].map((_, k) => 0.5 * mean(l, q, k) + (q === k ? 0.5 : 0)));
    rolled = rolled === null ? a : a.map((row) => [...Array(n)].map((_, k) => row.reduce((s, w, j) => s + w * rolled[j][k], 0)));
  }
  await page.selectOption('#source', 'rollout');
  await drawn(page);
  await page.waitForSelector('figcaption:has-text("rollout to L2")');
  for (const [q, k] of [[5, 0], [9, 4], [11, 11]]) close(await cell(page, q, k), rolled[q][k], 1e-4, `rollout (${q}, ${k})`);
  await shot(page, 'analysis-rollout');
  // hiding the sink zeroes key 0 and renormalises the rest
  await page.selectOption('#source', 'head');
  await drawn(page);
  await page.check('#hide-sink');
  await drawn(page);
  const head = A[2][0][6];
  const rest = head.slice(1, 7).reduce((s, w) => s + w, 0);
  close(await cell(page, 6, 0), 0, 1e-7, 'hidden sink');
  close(await cell(page, 6, 3), head[3] / rest, 1e-4, 'renormalised weight');
  // the value-weighted view keeps rows as distributions
  await page.selectOption('#source', 'value');
  await drawn(page);
  const row = (await cells(page, '.maps svg.heatmap')).filter((c) => c.query[0] === 6).reduce((s, c) => s + c.value, 0);
  close(row, 1, 1e-4, 'value-weighted row sum');
  assert.deepEqual(page.errors, []);
});

test('head roles: the map, the sortable table, opening a head, and the repeat test', async () => {
  const page = await open();
  await run(page, PROMPT);
  await panel(page, 'roles');
  assert.equal(await page.locator('#role-map .role-cell').count(), 48);
  await page.click('button.sort[data-sort="induction"]');
  await drawn(page);
  const first = await page.locator('#role-table tbody tr').first();
  const [layer, head] = [await first.getAttribute('data-layer'), await first.getAttribute('data-head')];
  const scores = await page.$$eval('#role-table tbody tr', (rows) => rows.map((r) => Number(r.children[6].textContent)));
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'sorted by induction, highest first');
  await page.click('#repeat-test');
  await drawn(page);
  await page.waitForSelector('#repeat-summary', { timeout: RUN_TIMEOUT });
  console.log('natural prompt, top by induction:', layer, head, scores.slice(0, 3));
  console.log(await page.textContent('#repeat-summary'));
  await shot(page, 'analysis-roles');
  // a head of the map opens its heatmap
  await page.click(`#role-map .role-cell[data-layer="${layer}"][data-head="${head}"]`);
  await drawn(page);
  await page.waitForSelector(`.maps figcaption:has-text("L${layer} H${head}")`);
  assert.ok(page.url().includes(`l=${layer}&h=${head}`), page.url());
  assert.deepEqual(page.errors, []);
});

test('predictions, surprisal shading and the logit lens at the selected token', async () => {
  const page = await open();
  await run(page, PROMPT);
  await panel(page, 'predictions');
  await page.click('.chip[data-token-index="7"]');
  await drawn(page);
  await page.waitForSelector('#predictions .candidate');
  await page.waitForSelector('#lens tr');
  assert.equal(await page.locator('#predictions .candidate').count(), 5);
  assert.equal(await page.locator('#lens tr').count(), 7, 'embeddings and after each of 6 layers');
  // the lens after the last layer is the model's own prediction
  const lastLens = await page.locator('#lens tr').last().locator('td .token').first().textContent();
  const top = await page.locator('#predictions .candidate .token').first().textContent();
  assert.equal(lastLens, top);
  assert.match(await page.textContent('#came'), /surprisal of [0-9.]+ bits/);
  await page.check('#surprisal');
  await drawn(page);
  await page.waitForFunction(() => document.querySelectorAll('.chip[data-weight]').length > 0);
  const weights = await page.$$eval('.chip', (cs) => cs.map((c) => c.dataset.weight));
  assert.equal(weights[0], undefined, 'the first token has nothing to be predicted from');
  assert.ok(weights.slice(1).every((w) => Number(w) >= 0), weights.join(','));
  await shot(page, 'analysis-predictions');
  assert.deepEqual(page.errors, []);
});

test('inside one head shows the weights the heatmap shows, and masks the future', async () => {
  const page = await open();
  await run(page, PROMPT);
  await page.selectOption('.maps-panel label:has-text("Layer") select', '1');
  await drawn(page);
  await page.selectOption('.maps-panel label:has-text("Head") select', '2');
  await drawn(page);
  await page.click('.chip[data-token-index="6"]');
  await drawn(page);
  await panel(page, 'inside');
  await page.waitForSelector('#inside-table tbody tr');
  const rows = await page.$$eval('#inside-table tbody tr', (rs) => rs.map((r) => [...r.children].map((c) => c.textContent)));
  assert.equal(rows.length, CASE.ids.length);
  for (let k = 0; k <= 6; k++) close(Number(rows[k][5]), CASE.attentions[1][2][6][k], 1e-4, `softmax of key ${k}`);
  assert.ok(rows.slice(7).every((r) => r[4].startsWith('−∞') && Number(r[5]) === 0), 'later keys are masked');
  await shot(page, 'analysis-inside');
  assert.deepEqual(page.errors, []);
});

test('ablation switches heads off, changes later layers only, and survives the permalink', async () => {
  const page = await open();
  await run(page, PROMPT);
  await panel(page, 'ablation');
  await page.check('#ablation-switches input[data-layer="1"][data-head="0"]');
  await drawn(page);
  await page.check('#ablation-switches input[data-layer="1"][data-head="3"]');
  await drawn(page);
  await page.waitForSelector('#ablated-predictions .candidate', { timeout: RUN_TIMEOUT });
  const change = async (l) => Number(await page.textContent(`#ablation-changes td[data-layer="${l}"]`));
  assert.equal(await change(0), 0);
  assert.equal(await change(1), 0);
  assert.ok(await change(2) > 0, 'a later layer attends differently');
  await page.selectOption('#source', 'rollout');
  await drawn(page);
  await page.check('#hide-sink');
  await drawn(page);
  await shot(page, 'analysis-ablation');
  // everything set here comes back from the link
  const link = await address(page, /&hs=1.*&ab=/);
  const again = await open(new URL(link).hash);
  await ready(again);
  await idle(again, CASE.ids.length);
  assert.equal(await again.inputValue('#source'), 'rollout');
  assert.ok(await again.isChecked('#hide-sink'));
  assert.equal(await again.getAttribute('.analysis-panel .tab[data-panel="ablation"]', 'aria-selected'), 'true');
  assert.ok(await again.isChecked('#ablation-switches input[data-layer="1"][data-head="3"]'));
  await again.waitForSelector('#ablated-predictions .candidate', { timeout: RUN_TIMEOUT });
  assert.deepEqual(page.errors, []);
  assert.deepEqual(again.errors, []);
});

test('the BOS toggle puts <|endoftext|> first and the first-token sink moves to it', async () => {
  const page = await open();
  await run(page, PROMPT);
  await page.check('#bos');
  await drawn(page);
  await page.waitForFunction((n) => document.querySelectorAll('.chip').length === n + 1 && document.querySelector('#status-text').dataset.running === 'false', CASE.ids.length);
  assert.equal(Number(await page.getAttribute('.chip[data-token-index="0"]', 'data-token-id')), 50256);
  assert.ok(page.url().includes('b=1'));
  await shot(page, 'analysis-bos');
  assert.deepEqual(page.errors, []);
});
