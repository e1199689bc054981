// Bad input, faults and hostile links in the built page (headless Chromium): each is shown as a
// clear message with the prompt and the view kept, and the app stays usable; the
// Content-Security-Policy holds and the app itself never trips it. run.sh builds, serves and
// sets HEADLIGHT_URL; screenshots go to OUTPUT_DIR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, RUN_TIMEOUT, useBrowser, open as openPage, ready, setSetting, chipIds, shot as shotAs, readFixture, worker, appWorkers, run, weight } from './common.mjs';

const fixture = readFixture('mini');

useBrowser();

/**
 * A fresh page at BASE + hash. Console errors and uncaught exceptions are collected in
 * `page.errors`, CSP violations (reported as events in the page) in `window.__violations`.
 */
const open = (hash = '') => openPage(hash, {
  init: () => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
  },
});

const status = (page) => page.textContent('#status-text');
const notice = (page) => page.textContent('#notice-text');
const violations = (page) => page.evaluate(() => window.__violations);
const shot = (page, name) => shotAs(page, `hardening-${name}`);

/** Waits until no run is in progress and the status has left `before`. */
async function settled(page, before) {
  await page.waitForFunction((b) => {
    const s = document.querySelector('#status-text');
    return s.dataset.running === 'false' && s.textContent !== b && !s.textContent.startsWith('Reading');
  }, before, { timeout: RUN_TIMEOUT });
}

/** The chips' labels with the visible whitespace marks turned back into whitespace. */
const shownText = (page) => page.$$eval('.chip', (cs) => cs.map((c) => c.textContent).join('')
  .replaceAll('␣', ' ').replaceAll('↵', '\n').replaceAll('⇥', '\t'));

test('markup in a prompt is shown as text, never interpreted', async () => {
  const page = await open();
  const prompt = '<img src=x onerror="window.__pwned=1"><svg onload="window.__pwned=2"><script>window.__pwned=3</script>&lt;b&gt;';
  await run(page, prompt);
  assert.equal(await shownText(page), prompt);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator('img, .stream svg, .stream script').count(), 0, 'no element was made from the prompt');
  assert.match(await status(page), /^Done\./);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(await violations(page), []);
});

test('emoji, CJK, right-to-left text, combining marks and control characters run and show', async () => {
  const page = await open();
  const awkward = fixture.cases.find((c) => c.prompt.includes('🚀'));
  await run(page, awkward.prompt);
  assert.deepEqual(await chipIds(page), awkward.ids, 'ids match transformers on the fixture prompt');
  const prompt = '👩‍👩‍👧 東京 שלום مرحبا e\u0301 Z\u0351\u034b b\u0007c\u001b[31m';
  await run(page, prompt);
  assert.match(await status(page), /^Done\./);
  const labels = await page.$$eval('.chip', (cs) => cs.map((c) => c.textContent).join(''));
  // The bundled model's vocabulary splits CJK and Hebrew into bytes: each shows whole or as its
  // UTF-8 bytes (東 is e6 9d b1), never as mojibake.
  assert.ok(labels.includes('⟨e6⟩⟨9d⟩⟨b1⟩') && labels.includes('לו') && labels.includes('مر'), labels);
  assert.ok(labels.includes('␇') && labels.includes('␛'), `control characters are visible marks: ${labels}`);
  await shot(page, 'awkward-prompt');
  assert.deepEqual(page.errors, []);
});

test('an empty prompt is refused with a message; whitespace alone runs', async () => {
  const page = await open();
  await run(page, 'Attention is all you need.');
  await run(page, '', { chips: 0 });
  assert.equal(await status(page), 'This run failed: prompt: is empty: type some text to run the model on');
  await run(page, ' \n\t ');
  assert.match(await status(page), /^Done\./);
  assert.ok((await page.$$eval('.chip', (cs) => cs.map((c) => c.textContent).join(''))).includes('↵'));
  assert.deepEqual(page.errors, []);
});

test('a 100,000-character prompt is refused with the context size, the prompt kept, the app usable', async () => {
  const page = await open();
  await page.locator('.tab[data-mode="block"]').click();
  const huge = 'The cat sat on the mat. '.repeat(4200).slice(0, 100_000);
  await run(page, huge, { chips: 0 });
  assert.match(await status(page), /^This run failed: prompt: is \d{5} tokens long; this model's context holds at most 512 tokens$/);
  assert.equal((await page.inputValue('#prompt')).length, 100_000, 'the prompt is kept');
  assert.equal(await page.getAttribute('.tab[aria-selected="true"]', 'data-mode'), 'block', 'the view is kept');
  await shot(page, 'huge-prompt');
  const reference = fixture.cases[0];
  await run(page, reference.prompt);
  assert.deepEqual(await chipIds(page), reference.ids);
  assert.deepEqual(page.errors, []);
});

// Each link, and what the notice must say about it. The page still loads the model and stays usable.
const hostileLinks = [
  ['random bytes', '#' + encodeURIComponent(String.fromCharCode(...Array.from({ length: 200 }, (_, i) => (i * 7919) % 256))),
    /This link has no version, not version 1 that this page reads/],
  ['a future version', '#v=2&p=from%20the%20future&l=3', /version "2", not version 1 .* only its prompt was kept/],
  ['a truncated link', '#v=1&m=tiny&p=caf%C', /The prompt in this link has a broken escape/],
  ['over the size cap', '#v=1&p=' + 'a'.repeat(70_000), /This link is 69 KiB long, more than the 64 KiB a link may hold/],
  ['out-of-range numbers', '#v=1&p=Hello&l=99&h=-1&t=NaN&st=999&q=999',
    /head \(h="-1"\) is not a whole number.*temperature \(t="NaN"\).*step 999 is past its 0 generated tokens.*layer 99 is past this model's 6 layers/],
  ['a path as the model', '#v=1&p=Hello&m=..%2F..%2Fetc%2Fpasswd', /\.\.\/\.\.\/etc\/passwd/],
  ['a URL as the model', '#v=1&p=Hello&m=https%3A%2F%2Fevil.example%2Fx.safetensors', /evil\.example/],
];

for (const [what, hash, expected] of hostileLinks) {
  test(`a link with ${what} says what was wrong and the app stays usable`, async () => {
    const page = await open(hash);
    await ready(page);
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('#notice-text').textContent), expected.source);
    // nothing was fetched from anywhere but the page's own origin, by the page or the worker
    const fetched = (scope) => scope.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name).origin));
    const origins = new Set([...await fetched(page), ...await fetched(await worker(page))]);
    assert.deepEqual([...origins], [new URL(BASE).origin]);
    if (what === 'out-of-range numbers') {
      await page.waitForSelector('.chip');
      assert.equal(await page.getAttribute('svg.heatmap', 'data-layer'), '0');
      await shot(page, 'hostile-link');
    }
    await run(page, 'Still works');
    assert.ok((await page.locator('.chip').count()) >= 2);
    assert.deepEqual(page.errors, []);
  });
}

test('generated ids outside the vocabulary in a link fail the replay with a message, not the worker', async () => {
  const page = await open('#v=1&p=Hello&g=11.99999.13&d=g');
  await ready(page);
  await page.waitForFunction(() => document.querySelector('#status-text').textContent.startsWith('This run failed'), null, { timeout: RUN_TIMEOUT });
  assert.equal(await status(page), "This run failed: tokenizer.json: token id 99999 is outside the model's vocabulary of 50257");
  assert.equal(await page.inputValue('#prompt'), 'Hello');
  await run(page, 'Still works');
  assert.ok((await page.locator('.chip').count()) >= 2);
  assert.deepEqual(page.errors, []);
});

test('a crashed worker is reported and restarted, the prompt and view kept', async () => {
  const page = await open();
  const reference = fixture.cases[1];
  // a prompt the bundled model continues greedily for 200 tokens without ending the text
  const long = 'SELECT * FROM users WHERE';
  await run(page, reference.prompt);
  await page.locator('.tab[data-mode="overview"]').click();
  // a long run, then the worker dies mid-way: an uncaught error in it, as a wasm trap from a
  // panic or a failed allocation would throw (reachable only through the test's debugger hook)
  await setSetting(page, 'New tokens', '200');
  await page.fill('#prompt', long);
  await page.click('#run');
  await page.waitForSelector('.chip.generated');
  const inference = await worker(page);
  await inference.evaluate(() => setTimeout(() => { throw new Error('simulated crash (test)'); }));
  await page.waitForSelector('.notice:not(.hidden)');
  assert.match(await notice(page), /^The inference worker stopped \(.*simulated crash \(test\)\); .* A new worker was started: your prompt and view are kept, press Run to try again\.$/);
  assert.match(await status(page), /^Loading the model|^This run failed: The inference worker stopped/);
  await ready(page);
  assert.match(await status(page), /^This run failed: The inference worker stopped/);
  assert.equal(await page.inputValue('#prompt'), long);
  assert.equal(await page.getAttribute('.tab[aria-selected="true"]', 'data-mode'), 'overview');
  await shot(page, 'worker-crashed');
  // the old worker is gone, a new one runs beside the views worker, which kept the maps (the
  // threaded inference worker's pool threads are workers too: not counted)
  for (let i = 0; i < 50 && (appWorkers(page).length !== 2 || page.workers().includes(inference)); i++) await page.waitForTimeout(100);
  assert.equal(appWorkers(page).length, 2);
  assert.notEqual(await worker(page), inference);
  assert.ok((await page.locator('svg.heatmap').count()) > 0, 'the maps read so far stay');
  await page.locator('.tab[data-mode="head"]').click();
  await run(page, reference.prompt);
  assert.deepEqual(await chipIds(page), reference.ids);
  await page.waitForSelector('svg.heatmap path.cell');
  assert.deepEqual(page.errors.filter((e) => !e.includes('simulated crash')), []);
});

test('a crashed views worker is reported and restarted, and the next run draws again', async () => {
  const page = await open();
  const reference = fixture.cases[1];
  // the views worker dies in the middle of a long run: the run stops with the reason
  await setSetting(page, 'New tokens', '200');
  await page.fill('#prompt', 'SELECT * FROM users WHERE');
  await page.click('#run');
  await page.waitForSelector('.chip.generated');
  const views = await worker(page, 'views');
  await views.evaluate(() => setTimeout(() => { throw new Error('simulated crash (test)'); }));
  await page.waitForSelector('.notice:not(.hidden)');
  assert.match(await notice(page), /^The worker that draws the maps stopped \(.*simulated crash \(test\)\); .* press Run to read the prompt again\.$/);
  await page.waitForFunction(() => /^This run failed: The worker that draws the maps stopped/.test(document.querySelector('#status-text').textContent));
  assert.equal(await page.inputValue('#prompt'), 'SELECT * FROM users WHERE');
  // Run at once, before the new views worker listens: the run waits for it, and draws
  await run(page, reference.prompt);
  await page.waitForSelector('svg.heatmap path.cell');
  assert.equal((await weight(page, 3, 1)).toFixed(4), reference.attentions[0][0][3][1].toFixed(4));
  assert.deepEqual(page.errors.filter((e) => !e.includes('simulated crash')), []);
});

test('Runs in quick succession: only the newest shows, nothing mixed in', async () => {
  const page = await open();
  const [first, second, third] = [fixture.cases[6], fixture.cases[3], fixture.cases[0]];
  await run(page, 'warm up');
  await setSetting(page, 'New tokens', '12');
  const before = await status(page);
  for (const c of [first, second, third]) {
    await page.fill('#prompt', c.prompt);
    await page.click('#run');
  }
  await settled(page, before);
  const ids = await chipIds(page);
  assert.deepEqual(ids.slice(0, third.ids.length), third.ids);
  assert.deepEqual(ids.slice(third.ids.length), third.greedy_12, 'the greedy continuation of the newest prompt, and nothing else');
  assert.deepEqual(page.errors, []);
});

test('the Content-Security-Policy is in force and the app never trips it', async () => {
  const page = await open();
  const policy = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  assert.match(policy, /script-src 'self' 'sha256-[A-Za-z0-9+/]{43}=' 'wasm-unsafe-eval'/);
  const scriptSrc = policy.split(';').find((d) => d.trim().startsWith('script-src '));
  assert.doesNotMatch(scriptSrc, /'unsafe-inline'|'unsafe-eval'|'inline-script-hashes'|\*/);
  await run(page, fixture.cases[0].prompt, { newTokens: 4 });
  for (const mode of ['block', 'layer', 'overview', 'head']) await page.locator(`.tab[data-mode="${mode}"]`).click();
  assert.deepEqual(await violations(page), [], 'the app itself runs within the policy');
  // what the policy must stop: injected inline script, a worker from a blob, and
  // connections to hosts other than this site and the Hub
  const blocked = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.body.append(s);
    try { new Worker(URL.createObjectURL(new Blob(['1'], { type: 'text/javascript' }))); } catch { /* reported below */ }
    try { await fetch('https://example.com/'); } catch { /* reported below */ }
    await new Promise((r) => setTimeout(r, 200));
    return { inline: window.__inline === undefined };
  });
  assert.deepEqual(blocked, { inline: true });
  const reported = (await violations(page)).map((v) => v.split(' ')[0]);
  for (const directive of ['script-src-elem', 'worker-src', 'connect-src']) {
    assert.ok(reported.includes(directive), `a ${directive} violation is reported: ${reported}`);
  }
});

test('the built page loads no third-party code', async () => {
  const page = await open();
  await ready(page);
  const html = await (await fetch(BASE)).text();
  const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  for (const source of sources) assert.ok(source.startsWith('./') || source.startsWith('data:'), `${source} is the page's own`);
  const scripts = await page.$$eval('script[src]', (ss) => ss.map((s) => s.src));
  for (const src of scripts) assert.ok(src.startsWith(BASE), src);
});
