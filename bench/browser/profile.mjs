// Where headlight's forward pass spends its time in the browser: opens the benchmark page in
// `?profile=N` mode, records a CPU profile (Chrome DevTools Protocol) of five forward passes
// over N tokens (or, with N = generate, three runs of the generation case), and prints the
// functions by self time. Usage (after bench/browser.sh has built the page):
// node bench/browser/profile.mjs URL-of-bench/browser/index.html N [out.cpuprofile]
import { writeFileSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [url, n = '64', out] = process.argv.slice(2);
const browser = await launch();
const page = await browser.newPage();
page.on('console', (m) => console.log(`  [page] ${m.text()}`));
await page.goto(`${url}?profile=${n}`);
await page.waitForFunction(() => window.profileReady === true, null, { timeout: 0, polling: 500 });
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
await cdp.send('Profiler.start');
await page.evaluate(() => window.profileGo());
await page.waitForFunction(() => window.benchDone === true, null, { timeout: 0, polling: 500 });
const { profile } = await cdp.send('Profiler.stop');
await browser.close();
if (out) writeFileSync(out, JSON.stringify(profile));

// self time per function: samples whose top frame is that node
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
const dt = (profile.endTime - profile.startTime) / 1000 / profile.samples.length;
for (const id of profile.samples) {
  const name = byId.get(id).callFrame.functionName || '(anonymous)';
  self.set(name, (self.get(name) ?? 0) + dt);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log(`\nself time over ${total.toFixed(0)} ms (profile=${n}):`);
for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${ms.toFixed(1).padStart(9)} ms ${(100 * ms / total).toFixed(1).padStart(5)}%  ${name.slice(0, 140)}`);
}
