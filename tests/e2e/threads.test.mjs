// The threaded inference worker, end to end. run.sh serves the page as GitHub Pages would, with
// no COOP/COEP headers: public/isolation.js registers its service worker, which adds them, and
// the page reloads once under it, cross-origin isolated; the inference worker then runs the
// kernels on a pool of workers sharing its memory. Where service workers are refused, the page
// stays unisolated and runs on one thread. Either way the maps match PyTorch's reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, open, ready, run, pick, weight, shot, readFixture } from './common.mjs';

const fixture = readFixture('mini');

useBrowser();

/** The reference's cells of `prompt` that the page shows, at a few layers and heads. */
async function matchesTheReference(page, label) {
  const reference = fixture.cases[1];
  await run(page, reference.prompt);
  for (const [layer, head, q, k] of [[0, 1, 5, 2], [3, 3, 13, 12], [5, 7, 13, 4]]) {
    await pick(page, 'Layer', layer);
    await pick(page, 'Head', head);
    const shown = await weight(page, q, k, { layer, head });
    assert.ok(Math.abs(shown - reference.attentions[layer][head][q][k]) < 1e-4, `${label}: L${layer} H${head} q${q} k${k}: ${shown}`);
  }
}

test('served without COOP/COEP, the page isolates itself with its service worker and runs the model on threads', async () => {
  const threads = () => localStorage.setItem('headlight.threads', '3');
  const page = await open('#v=1&p=Threads%20at%20work', { init: threads });
  await ready(page);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'isolated after one reload');
  assert.equal(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL.endsWith('/isolation.js')), true);
  // the link survived the reload
  assert.equal(await page.inputValue('#prompt'), 'Threads at work');
  assert.equal(await page.getAttribute('#status-text', 'data-threads'), '3', 'the pool threads started');
  assert.match(await page.textContent('#model-loaded'), / · relaxed-simd kernels on f16 weights, 3 threads$/);
  await matchesTheReference(page, '3 threads');
  await shot(page, 'threads');
  assert.deepEqual(page.errors, []);
});

test('where service workers are refused, the page runs on one thread and still matches the reference', async () => {
  const page = await open('', { serviceWorkers: 'block' });
  await ready(page);
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  assert.equal(await page.getAttribute('#status-text', 'data-threads'), '1');
  assert.match(await page.textContent('#model-loaded'), / · relaxed-simd kernels on f16 weights$/);
  await matchesTheReference(page, 'one thread');
  assert.deepEqual(page.errors, []);
});

test('an isolated page told to use one thread runs the unthreaded worker', async () => {
  const page = await open('', { init: () => localStorage.setItem('headlight.threads', '1') });
  await ready(page);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  assert.equal(await page.getAttribute('#status-text', 'data-threads'), '1');
  await matchesTheReference(page, 'isolated, one thread');
  assert.deepEqual(page.errors, []);
});
