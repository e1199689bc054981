// Where the bundled model's cold start goes (bench/app.sh builds the page; this times it three
// ways, three times each, turn about, each in a fresh browser context, to the first heatmap):
// - first visit: the service worker registers, the page reloads once under it, and the model runs
//   on the threaded worker (app.mjs times it from the reloaded page's start; this also from
//   before the first navigation, by the wall clock here, which includes the reload);
// - first visit, not isolated: the page is told isolation was tried already (sessionStorage), so
//   it starts at once, on one thread, as a browser without service workers would;
// - second visit: the same context loaded again, controlled by the service worker from the start.
// Usage: node bench/browser/cold.mjs URL-of-the-built-page
import { launch } from './chromium.mjs';

const [url] = process.argv.slice(2);
const browser = await launch();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const firstHeatmap = async (page) => (await page.waitForFunction(() => document.querySelector('svg.heatmap path.cell') && performance.now(), null, { polling: 'raf', timeout: 120_000 })).jsonValue();
/** The first heatmap of a visit to `url`: from the page's own start, and by the wall clock from
 * before the navigation (the second includes a reload, where there is one). */
const visit = async (page) => {
  const start = Date.now();
  await page.goto(url);
  const fromPage = await firstHeatmap(page);
  return [fromPage, Date.now() - start];
};
const engine = (page) => page.evaluate(() => { const d = document.querySelector('[data-kernels]')?.dataset ?? {}; return `${d.kernels}, ${d.threads} thread(s)`; });
const times = {
  'first visit (reload under the service worker, threads)': [],
  'first visit, not isolated (one thread, no reload)': [],
  'second visit (controlled from the start)': [],
};
const [first, plain, second] = Object.values(times);
let engines = {};
for (let i = 0; i < 3; i++) {
  let context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  let page = await context.newPage();
  first.push(await visit(page));
  engines.first = await engine(page);
  page = await context.newPage();
  second.push(await visit(page));
  engines.second = await engine(page);
  await context.close();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => sessionStorage.setItem('headlight.isolation', '1'));
  page = await context.newPage();
  plain.push(await visit(page));
  engines.plain = await engine(page);
  await context.close();
}
await browser.close();
for (const [what, runs] of Object.entries(times)) {
  const [page, wall] = [runs.map((r) => r[0]), runs.map((r) => r[1])];
  console.log(`${what}: ${median(page).toFixed(0)} ms from the page's start (${page.map((t) => t.toFixed(0)).join(', ')}), ${median(wall).toFixed(0)} ms by the wall clock (${wall.join(', ')})`);
}
console.log(`engines: ${JSON.stringify(engines)}`);
