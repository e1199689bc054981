// Models from the Hugging Face Hub and from local files, end to end in headless Chromium, against
// tests/hub/server.py: a local stand-in for the Hub (resolve URLs, Range, a CDN redirect) that
// also serves the built app (same origin) and misbehaves on purpose for some repositories. The
// page is pointed at it through localStorage["headlight.hub"], which a link cannot set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LOAD_TIMEOUT, GUIDE_DISMISSED, browser, useBrowser, openIn, setSetting, chipIds, shot, readFixture as fixture, worker, run, weight } from './common.mjs';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '..', '..');
const DIST = process.env.HEADLIGHT_DIST ?? join(root, 'dist');
const modelFile = (dir, file) => join(root, dir, file);
const BF16 = ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => modelFile('tests/fixtures/models/bf16', f));
const TINY = ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => modelFile('tests/fixtures/models/tiny', f));

let server;
let BASE;

useBrowser();

before(async () => {
  server = spawn('python3', [join(root, 'tests', 'hub', 'server.py'), '--port', '0', '--dist', DIST], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).once('line', resolve);
    server.once('exit', (code) => reject(new Error(`the hub server exited (${code})`)));
  });
  BASE = `http://127.0.0.1:${line.split(' ')[1]}/`;
});

after(() => {
  server?.kill();
});

/** A fresh browser profile (its own Cache API storage) pointed at the stand-in Hub, or `hub`;
 *  `patience`: how many seconds its worker waits on a silent server (default 30). */
async function newContext(hub = `${BASE}hub`, { patience } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await context.addInitScript((h) => localStorage.setItem('headlight.hub', h), hub);
  if (patience) await context.addInitScript((p) => localStorage.setItem('headlight.patience', p), String(patience));
  await context.addInitScript((key) => localStorage.setItem(key, '1'), GUIDE_DISMISSED);
  return context;
}

/** A page in `context` at BASE + hash; uncaught exceptions (not console errors) in `page.errors`. */
const open = (context, hash = '') => openIn(context, BASE + hash, { consoleErrors: false });

const hubLog = async () => (await fetch(`${BASE}__log`)).json();
const resetLog = () => fetch(`${BASE}__reset`, { method: 'POST' });
const stored = (page) => page.evaluate(async () => (await (await caches.open('headlight-models')).keys()).map((r) => r.url));
const loadedLabel = (page) => page.textContent('#model-loaded');

/** Waits until `name` is the loaded model and the status line says ready. */
async function loaded(page, name) {
  await page.waitForFunction((n) => document.querySelector('#model-loaded')?.textContent.includes(`Loaded: ${n} `)
    && document.querySelector('#status-text')?.dataset.ready === 'true', name, { timeout: LOAD_TIMEOUT });
}

/** Asks for a typed Hub repository. */
async function ask(page, repo) {
  const before = await page.textContent('#model-error-text');
  await page.selectOption('#model-choice', 'typed');
  await page.fill('#repo-id', repo);
  await page.click('#load-model');
  // the last error goes as soon as the click is seen
  await page.waitForFunction((b) => document.querySelector('#model-error').classList.contains('hidden')
    || document.querySelector('#model-error-text').textContent !== b, before);
}

/** Waits for the download question or an error; says yes to the question. */
async function confirmOrError(page) {
  await page.waitForSelector('#model-confirm:not(.hidden), #model-error:not(.hidden)', { timeout: LOAD_TIMEOUT });
  if (await page.isVisible('#model-confirm')) await page.click('#confirm-download');
}

async function errorText(page) {
  await page.waitForSelector('#model-error:not(.hidden)', { timeout: LOAD_TIMEOUT });
  return page.textContent('#model-error-text');
}

/** Records every text the download line shows, from now on. */
async function recordProgress(page) {
  await page.evaluate(() => {
    window.progressSeen = [];
    const line = document.querySelector('#download-text');
    new MutationObserver(() => window.progressSeen.push(line.textContent)).observe(line, { childList: true, characterData: true, subtree: true });
  });
}

/** The prompt's chips and some layer-0 head-0 cells match the transformers reference. */
async function matchesReference(page, reference) {
  await page.waitForFunction((n) => document.querySelectorAll('.chip').length === n, reference.ids.length, { timeout: LOAD_TIMEOUT });
  assert.deepEqual(await chipIds(page), reference.ids);
  const n = reference.ids.length;
  for (const [q, k] of [[0, 0], [n - 1, 0], [n - 1, n - 1], [Math.floor(n / 2), 1]]) {
    const v = await weight(page, q, k, { layer: 0, head: 0 });
    assert.ok(Math.abs(v - reference.attentions[0][0][q][k]) < 1e-4, `q${q} k${k}: ${v} vs ${reference.attentions[0][0][q][k]}`);
  }
}

test('a Hub model: what it downloads, the yes, progress, the model runs, and the next visit needs no network', async () => {
  const context = await newContext();
  const page = await open(context);
  await loaded(page, 'mini');
  await shot(page, 'hub-picker');
  await resetLog();
  await ask(page, 'test/odd-heads');
  await page.waitForSelector('#model-confirm:not(.hidden)');
  const question = await page.textContent('#model-confirm-text');
  assert.match(question, /^test\/odd-heads at revision main will download 24\.3 MB from 127\.0\.0\.1:\d+ \(not the Hugging Face Hub\): /);
  assert.ok(question.includes('model.safetensors (20.7 MB)') && question.includes('config.json (858 B)') && question.includes('tokenizer.json (3.6 MB)'), question);
  await shot(page, 'hub-confirm');
  // nothing but sizes was asked for before the yes
  assert.deepEqual([...new Set((await hubLog()).map((r) => r.method))], ['HEAD']);
  await recordProgress(page);
  await page.click('#confirm-download');
  await loaded(page, 'test/odd-heads');
  const progress = await page.evaluate(() => window.progressSeen);
  assert.ok(progress.some((t) => t.startsWith('model.safetensors: 20.7 MB of 20.7 MB')), progress.join('\n'));
  const reference = fixture('odd-heads-f32').cases[1];
  await run(page, reference.prompt);
  await matchesReference(page, reference);
  assert.match(page.url(), /[#&]m=hf%3Atest%2Fodd-heads%40main&/);
  const files = (await stored(page)).map((u) => u.replace(BASE, '')).sort();
  assert.deepEqual(files, ['hub/test/odd-heads/resolve/main/config.json', 'hub/test/odd-heads/resolve/main/model.safetensors', 'hub/test/odd-heads/resolve/main/tokenizer.json']);

  // The link, opened again in this browser: no question, and no request reaches the server.
  await resetLog();
  const again = await open(context, new URL(page.url()).hash);
  await loaded(again, 'test/odd-heads');
  await matchesReference(again, reference);
  assert.deepEqual(await hubLog(), [], 'a second visit loads from the cache');
  assert.equal(await again.isVisible('#model-confirm'), false);
  await again.click('#cache-summary');
  assert.match(await again.textContent('#cache-summary'), /Stored in this browser: 1 \(24\.3 MB\)/);
  await shot(again, 'hub-cached');
  assert.deepEqual([...page.errors, ...again.errors], []);
  await context.close();
});

test('a link to a Hub model asks before anything leaves the browser, then loads; or the bundled model', async () => {
  const reference = fixture('bf16').cases[0];
  const hash = `#v=1&m=hf%3Atest%2Fbf16%40main&p=${encodeURIComponent(reference.prompt)}&n=0&d=g`;
  const context = await newContext();
  await resetLog();
  const page = await open(context, hash);
  await page.waitForSelector('#model-confirm:not(.hidden)', { timeout: LOAD_TIMEOUT });
  assert.match(await page.textContent('#model-confirm-text'),
    /^This link names test\/bf16 at revision main on 127\.0\.0\.1:\d+ \(not the Hugging Face Hub\)\. Nothing has been asked of 127\.0\.0\.1:\d+ \(not the Hugging Face Hub\) yet: Download fetches/);
  assert.equal(await page.getAttribute('#status-text', 'data-ready'), 'false');
  assert.deepEqual(await hubLog(), [], 'no request reaches the Hub before the yes');
  await shot(page, 'hub-link-question');
  await page.click('#confirm-download');
  await loaded(page, 'test/bf16');
  await matchesReference(page, reference);

  await resetLog();
  const declined = await open(await newContext(), hash);
  await declined.waitForSelector('#model-confirm:not(.hidden)', { timeout: LOAD_TIMEOUT });
  await declined.click('#decline-download');
  await loaded(declined, 'mini');
  assert.deepEqual(await hubLog(), [], 'a declined link never reaches the Hub');

  // The same link without the override names the Hugging Face Hub; the stand-in's stored copy,
  // kept under its own URLs, is not taken for the Hub's.
  const real = await context.newPage();
  await real.addInitScript(() => localStorage.removeItem('headlight.hub'));
  await real.goto(BASE + hash);
  await real.waitForSelector('#model-confirm:not(.hidden)', { timeout: LOAD_TIMEOUT });
  assert.match(await real.textContent('#model-confirm-text'), /^This link names test\/bf16 at revision main on the Hugging Face Hub\. Nothing has been asked of the Hugging Face Hub yet/);
  assert.deepEqual(await hubLog(), []);
  await context.close();
});

test('a link that fails leaves a usable page: the reason, Retry, and Load free', async () => {
  /** The error shows with Retry, the status is not stuck loading, and Load is enabled. */
  async function usable(page, expected) {
    const message = await errorText(page);
    assert.match(message, expected);
    await page.waitForSelector('#retry-load:not(.hidden)');
    assert.doesNotMatch(await page.textContent('#status-text'), /^Loading/);
    assert.equal(await page.isEnabled('#load-model'), true);
    return message;
  }
  // A repository that does not exist, on a first visit: asked, then refused.
  const missing = await open(await newContext(), '#v=1&m=hf%3Atest%2Fmissing%40main&p=Hello');
  await missing.waitForSelector('#model-confirm:not(.hidden)', { timeout: LOAD_TIMEOUT });
  await missing.click('#confirm-download');
  console.log(`missing: ${await usable(missing, /^test\/missing has no config\.json at revision main/)}`);
  assert.match(await missing.textContent('#status-text'), /^No model is loaded: test\/missing has no config\.json .* Press Retry, or pick a model under Model\.$/);
  await shot(missing, 'hub-link-missing');
  await missing.click('#load-model'); // the picker's choice: the bundled model
  await loaded(missing, 'mini');
  assert.equal(await missing.inputValue('#prompt'), 'Hello', 'the link\'s prompt is kept');

  // A Hub that is not there at all (nothing listens on port 1).
  const offline = await open(await newContext('http://127.0.0.1:1/hub'), '#v=1&m=hf%3Atest%2Fbf16%40main&p=Hello');
  await offline.waitForSelector('#model-confirm:not(.hidden)', { timeout: LOAD_TIMEOUT });
  await offline.click('#confirm-download');
  console.log(`offline: ${await usable(offline, /^config\.json: the request failed \(.*\): offline, blocked, or the server is down; gave up after 3 tries$/)}`);

  // A link made with local files: Load stays free to pick another model.
  const sha = 'a'.repeat(64);
  const local = await open(await newContext(), `#v=1&m=${encodeURIComponent(`local:config=${sha}:config.json;weights=${sha}:model.safetensors;tokenizer=${sha}:tokenizer.json`)}&p=Hello`);
  await local.waitForSelector('#local-wanted:not(.hidden)', { timeout: LOAD_TIMEOUT });
  assert.equal(await local.isEnabled('#load-model'), true);
  await local.click('#load-model');
  await loaded(local, 'mini');

  // A Hub that never answers: the check has a Cancel, and gives up by itself.
  const context = await newContext();
  const hang = await open(context);
  await loaded(hang, 'mini');
  await ask(hang, 'test/hang');
  await hang.waitForSelector('#model-checking:not(.hidden)');
  assert.match(await hang.textContent('#model-checking'), /^Checking test\/hang on 127\.0\.0\.1:\d+ \(not the Hugging Face Hub\)…/);
  await hang.click('#cancel-check');
  assert.equal(await errorText(hang), 'Checking test/hang was cancelled.');
  assert.equal(await hang.isEnabled('#load-model'), true);
  await hang.click('#retry-load');
  await hang.waitForSelector('#model-checking:not(.hidden)');
  await usable(hang, /^config\.json: the server did not answer within 30 s: it may be down or overloaded$/);
  await loaded(hang, 'mini');
  await context.close();
});

test('a restarted worker loads the model that loaded last, never a load that failed', async () => {
  const context = await newContext();
  const page = await open(context);
  await loaded(page, 'mini');
  await ask(page, 'test/garbage');
  await confirmOrError(page);
  assert.match(await errorText(page), /^model\.safetensors: header claims/);
  await resetLog();
  for (let crash = 1; crash <= 2; crash++) {
    const next = page.waitForEvent('worker');
    await (await worker(page)).evaluate(() => setTimeout(() => { throw new Error('simulated crash (test)'); }));
    await next;
    await loaded(page, 'mini');
  }
  assert.deepEqual(await hubLog(), [], 'the failed repository is not asked for again');
  const reference = fixture('mini').cases[0];
  await run(page, reference.prompt);
  await matchesReference(page, reference);
  await context.close();
});

test('progress with speed and time left, Cancel, resuming dropped downloads, and Retry', async () => {
  const context = await newContext();
  const page = await open(context);
  await loaded(page, 'mini');

  // A slow download shows bytes of total, speed and time left; Cancel keeps the model there was.
  await ask(page, 'test/tiny-slow');
  await confirmOrError(page);
  await page.waitForFunction(() => /of 14\.5 MB · [\d.]+ [kM]B\/s · about .* left/.test(document.querySelector('#download-text').textContent), null, { timeout: LOAD_TIMEOUT });
  await shot(page, 'hub-progress');
  console.log(`progress: ${await page.textContent('#download-text')}`);
  await page.click('#cancel-download');
  assert.equal(await errorText(page), 'Loading was cancelled.');
  await loaded(page, 'mini');
  assert.deepEqual(await stored(page), [], 'a cancelled download is not stored');

  // A worker that dies now comes back with the model it had, not the cancelled download.
  await resetLog();
  const inference = await worker(page);
  await inference.evaluate(() => setTimeout(() => { throw new Error('simulated crash (test)'); }));
  await page.waitForSelector('.notice:not(.hidden)');
  await loaded(page, 'mini');
  assert.deepEqual((await hubLog()).filter((r) => r.path.includes('tiny-slow')), [], 'the restarted worker downloads nothing');

  // Dropped twice mid-file: resumed with Range from where it stopped.
  await resetLog();
  await recordProgress(page);
  await ask(page, 'test/tiny-drop');
  await confirmOrError(page);
  await loaded(page, 'test/tiny-drop');
  const seen = await page.evaluate(() => window.progressSeen);
  assert.ok(seen.some((t) => t.includes('connection lost; resuming in 1 s (try 1 of 3)')), seen.join('\n'));
  const resumed = (await hubLog()).filter((r) => r.path.startsWith('/cdn/test/tiny-drop') && /^bytes=[1-9]\d*-$/.test(r.range ?? ''));
  assert.equal(resumed.length, 2, JSON.stringify(await hubLog()));

  // tokenizer.json dropped halfway: resumed with Range as well, with its own progress.
  await resetLog();
  await recordProgress(page);
  await ask(page, 'test/tiny-drop-tokenizer');
  await confirmOrError(page);
  await loaded(page, 'test/tiny-drop-tokenizer');
  const tokenizerSeen = await page.evaluate(() => window.progressSeen);
  assert.ok(tokenizerSeen.some((t) => t.startsWith('tokenizer.json: ') && t.includes('connection lost; resuming in 1 s (try 1 of 3)')), tokenizerSeen.join('\n'));
  const tokenizerResumed = (await hubLog()).filter((r) => r.path.endsWith('/tokenizer.json') && /^bytes=[1-9]\d*-$/.test(r.range ?? ''));
  assert.equal(tokenizerResumed.length, 1, JSON.stringify(await hubLog()));

  // A server that ignores Range: the download starts over, and completes.
  await ask(page, 'test/tiny-norange');
  await confirmOrError(page);
  await loaded(page, 'test/tiny-norange');

  // Dropping every 2.5 MB: after three resumptions the user is asked; Retry resumes.
  await resetLog();
  await ask(page, 'test/tiny-flaky');
  await confirmOrError(page);
  const message = await errorText(page);
  assert.match(message, /^model\.safetensors: the connection (dropped|closed) .*; gave up after 3 tries\. Retry resumes from byte 10000000$/);
  console.log(`flaky: ${message}`);
  await shot(page, 'hub-error-dropped');
  for (let i = 0; i < 3 && !(await loadedLabel(page)).includes('test/tiny-flaky'); i++) {
    await page.click('#retry-load');
    await page.waitForFunction(() => document.querySelector('#status-text').dataset.ready === 'true', null, { timeout: LOAD_TIMEOUT });
  }
  await loaded(page, 'test/tiny-flaky');
  // three resumptions, then Retry from byte 10000000, which drops once more and resumes
  const ranges = (await hubLog()).filter((r) => r.path.startsWith('/cdn/test/tiny-flaky') && r.range?.endsWith('-')).map((r) => r.range);
  assert.deepEqual(ranges, ['bytes=2500000-', 'bytes=5000000-', 'bytes=7500000-', 'bytes=10000000-', 'bytes=12500000-']);
  await context.close();
});

test('bad repositories are refused with a clear message, the app stays usable, and nothing broken is stored', async () => {
  const context = await newContext();
  const page = await open(context);
  await loaded(page, 'mini');
  const cases = [
    ['test/missing', /^test\/missing has no config\.json at revision main: check the repository id and revision/],
    ['org/gp t2', /^“org\/gp t2” is not a Hub repository id: it contains “ ”/],
    ['test/llama', /^test\/llama is not a GPT-2 checkpoint headlight can run: config\.json: `model_type` is "llama"/],
    ['test/pickle-only', /^test\/pickle-only has only pytorch_model\.bin, a pickle checkpoint\. Pickle files can run code/],
    ['test/huge', /^This model needs about 15\.1 GB of memory \(6\.2 GB file \+ 6\.2 GB of weights as f32 \+ 2\.5 GB for a full context's attention\), and (wasm32 can address 4 GiB at most|this browser can give about [\d.]+ GB)\.$/],
    ['test/garbage', /^model\.safetensors: header claims \d+ bytes, over the 104857600-byte limit: not a safetensors file, or corrupt$/],
    ['test/tiny-short', /^model\.safetensors: tensor `.*` has data_offsets \[\d+, \d+\] outside the \d+-byte data section \(truncated file\?\)$/],
    ['test/wrong-shape', /^model\.safetensors: tensor `transformer\.wte\.weight` has shape \[50257, 128\]; the config needs \[50257, 96\]$/],
  ];
  for (const [repo, expected] of cases) {
    await resetLog();
    await ask(page, repo);
    await confirmOrError(page);
    const message = await errorText(page);
    console.log(`${repo}: ${message}`);
    assert.match(message, expected);
    await loaded(page, 'mini');
    await shot(page, `hub-error-${repo.replace(/\W+/g, '-')}`);
    if (repo === 'test/huge') {
      const gets = (await hubLog()).filter((r) => r.method === 'GET' && r.path.endsWith('model.safetensors'));
      assert.ok(gets.length > 0 && gets.every((r) => /^bytes=0-\d+$/.test(r.range ?? '')), 'only the header is read of an oversized model');
    }
  }
  assert.deepEqual(await stored(page), []);
  // and the bundled model still runs
  const reference = fixture('mini').cases[0];
  await run(page, reference.prompt);
  await matchesReference(page, reference);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('lying servers: each fault a clear error, nothing spliced or stored; the worker fetches from the Hub and this site alone', async () => {
  const context = await newContext();
  const page = await open(context);
  await loaded(page, 'mini');
  // The page's Content-Security-Policy does not reach the worker: a request of its own goes to
  // another origin (localhost is not 127.0.0.1). So the worker's fetch code holds every request,
  // and every redirect, to the Hub (here the stand-in) and this site: test/offsite below.
  const elsewhere = `${BASE.replace('127.0.0.1', 'localhost')}__log`;
  assert.equal(await (await worker(page)).evaluate(async (url) => (await fetch(url)).ok, elsewhere), true);
  const cases = [
    ['test/big-config', /^config\.json: it is over 1\.0 MB, more than headlight reads for this file; nothing is kept$/],
    ['test/gzip-tokenizer', /^tokenizer\.json: received more than the \d+ bytes announced \(a compressed answer, or the file changed on the server\); nothing is kept$/],
    ['test/offsite', /^model\.safetensors: it would come from http:\/\/localhost:\d+, which is neither 127\.0\.0\.1:\d+ \(not the Hugging Face Hub\) nor this site: headlight fetches models from nowhere else$/],
    ['test/tiny-changed', /^model\.safetensors: the file changed on the server while downloading \(its ETag differs\)$/],
  ];
  for (const [repo, expected] of cases) {
    await resetLog();
    await ask(page, repo);
    await confirmOrError(page);
    const message = await errorText(page);
    console.log(`${repo}: ${message}`);
    assert.match(message, expected);
    await loaded(page, 'mini');
    assert.deepEqual(await stored(page), [], `${repo}: nothing is stored`);
    await shot(page, `hub-error-${repo.replace(/\W+/g, '-')}`);
  }
  // What was received before the file changed is dropped, not spliced: Retry starts over.
  const asked = (await hubLog()).length;
  await page.click('#retry-load');
  await loaded(page, 'test/tiny-changed');
  const gets = (await hubLog()).slice(asked).filter((r) => r.method === 'GET' && r.path.startsWith('/cdn/test/tiny-changed'));
  assert.deepEqual(gets.map((r) => r.range ?? null).filter((r) => r === null || r.endsWith('-')), [null], JSON.stringify(gets));
  // No Content-Length and a body that ends halfway: the length from the header check shows it
  // cut short, so it resumes and completes.
  await resetLog();
  await ask(page, 'test/no-length');
  await confirmOrError(page);
  await loaded(page, 'test/no-length');
  assert.ok((await hubLog()).some((r) => r.path.startsWith('/cdn/test/no-length') && /^bytes=[1-9]\d*-$/.test(r.range ?? '')), 'resumed where the body ended');
  const reference = fixture('tiny').cases[0];
  await run(page, reference.prompt);
  await matchesReference(page, reference);
  await context.close();
});

test('a body that stops after its headers: given up on, nothing stored, the page usable, and Retry resumes', async () => {
  // The worker waits 3 s on a silent server here (30 s by default), so the test need not wait long.
  const context = await newContext(`${BASE}hub`, { patience: 3 });
  const page = await open(context);
  await loaded(page, 'mini');
  await resetLog();
  await ask(page, 'test/tiny-stall');
  await confirmOrError(page);
  const message = await errorText(page);
  console.log(`stall: ${message}`);
  assert.match(message, /^model\.safetensors: the server stopped sending after [\d.]+ kB of 14\.5 MB, and sent nothing more for 3 s: it may be overloaded, or the connection is lost\. Nothing was stored; press Retry to try again$/);
  await page.waitForSelector('#retry-load:not(.hidden)');
  assert.doesNotMatch(await page.textContent('#status-text'), /^Loading/);
  assert.equal(await page.isEnabled('#load-model'), true);
  await loaded(page, 'mini');
  assert.deepEqual(await stored(page), [], 'nothing of a stalled download is stored');
  await shot(page, 'hub-error-stalled');
  // the model there was still runs
  const mini = fixture('mini').cases[0];
  await run(page, mini.prompt);
  await matchesReference(page, mini);
  // the stalled answer was the only one for the weights: not asked again by itself
  // (the header check's requests name their last byte; a download's do not)
  const weights = async () => (await hubLog()).filter((r) => r.method === 'GET' && r.path.startsWith('/cdn/test/tiny-stall')).map((r) => r.range ?? null).filter((r) => r === null || r.endsWith('-'));
  assert.deepEqual(await weights(), [null]);
  // Retry resumes where the silent answer stopped, and the model loads, runs and is stored.
  await page.click('#retry-load');
  await loaded(page, 'test/tiny-stall');
  assert.deepEqual(await weights(), [null, 'bytes=4096-']);
  const reference = fixture('tiny').cases[0];
  await run(page, reference.prompt);
  await matchesReference(page, reference);
  assert.equal((await stored(page)).filter((u) => u.includes('/test/tiny-stall/')).length, 3);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a repository with vocab.json and merges.txt instead of tokenizer.json', async () => {
  const context = await newContext();
  const page = await open(context);
  await loaded(page, 'mini');
  await ask(page, 'test/slow-tokenizer');
  await page.waitForSelector('#model-confirm:not(.hidden)');
  assert.match(await page.textContent('#model-confirm-text'), /config\.json \(\d+ B\), vocab\.json \([\d.]+ kB\), merges\.txt \([\d.]+ kB\), model\.safetensors \(14\.5 MB\)/);
  await page.click('#confirm-download');
  await loaded(page, 'test/slow-tokenizer');
  const reference = fixture('tiny').cases[5]; // accents, CJK, an emoji, curly quotes
  await run(page, reference.prompt);
  await matchesReference(page, reference);
  await context.close();
});

test('the cache panel lists stored models and deletes them', async () => {
  const context = await newContext();
  const page = await open(context);
  await loaded(page, 'mini');
  await ask(page, 'test/bf16');
  await confirmOrError(page);
  await loaded(page, 'test/bf16');
  await page.click('#cache-summary');
  const row = page.locator('li.stored[data-model="test/bf16 @ main"]');
  await row.waitFor();
  assert.equal(await row.locator('.stored-size').textContent(), '8.5 MB');
  await shot(page, 'hub-cache-panel');
  await row.locator('button').click();
  await page.waitForFunction(() => document.querySelector('#cache-summary').textContent === 'Stored in this browser: nothing yet');
  assert.deepEqual(await stored(page), []);
  await ask(page, 'test/bf16');
  await page.waitForSelector('#model-confirm:not(.hidden)'); // asked again: it is no longer stored
  await context.close();
});

test('local files load, and a link made with them asks for the same files by SHA-256', async () => {
  const context = await newContext();
  const page = await open(context);
  await loaded(page, 'mini');
  await page.selectOption('#model-choice', 'local');
  await page.setInputFiles('#local-files', BF16);
  await page.click('#load-model');
  await loaded(page, 'local files (model.safetensors)');
  const reference = fixture('bf16').cases[2];
  await run(page, reference.prompt);
  await matchesReference(page, reference);
  const sha = createHash('sha256').update(readFileSync(BF16[1])).digest('hex');
  const link = new URL(page.url()).hash;
  assert.ok(decodeURIComponent(link).includes(`weights=${sha}:model.safetensors`), link);

  const other = await open(await newContext(), link);
  await other.waitForSelector('#local-wanted:not(.hidden)', { timeout: LOAD_TIMEOUT });
  assert.ok((await other.textContent('#local-wanted')).includes(`model.safetensors (SHA-256 ${sha.slice(0, 16)}…)`));
  await shot(other, 'hub-local-wanted');
  await other.setInputFiles('#local-wanted-files', TINY);
  const message = await errorText(other);
  console.log(`wrong local files: ${message}`);
  assert.match(message, /is not the file the link was made with: its SHA-256 is [0-9a-f]{12}…, the link's .* has [0-9a-f]{12}…\. Pick the same files, or switch to a Hub model\./);
  await shot(other, 'hub-error-local-mismatch');
  await other.setInputFiles('#local-wanted-files', BF16);
  await loaded(other, 'local files (model.safetensors)');
  await matchesReference(other, reference);
  await context.close();
});
