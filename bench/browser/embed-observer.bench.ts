/**
 * Cost of the script-tag bundle's MutationObserver on a busy host page (issue 17 item 6): a page with
 * 2,000 elements performs 5,000 mutations (appends of small subtrees, text changes, removals) in
 * batches of 50, each batch followed by a microtask checkpoint so observers run. Compared:
 * - no bundle (the host page alone);
 * - the bundle (/kv-cache-lab.js, one <kv-memory> loaded, the other widgets still pending, so its
 *   observer stays connected);
 * - the previous observer, inlined: on every batch, one document-wide querySelector per pending tag
 *   (src/widgets/loader.ts `defineUsedWidgets` with watch = true).
 * Prints the median of 5 runs per variant and writes bench/results/embed-observer.json. No thresholds.
 * Run: npx playwright test -c bench/browser/playwright.config.ts embed-observer
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { test, type Page } from '@playwright/test';
import { BASE_URL } from './playwright.config';
import { EMBEDDABLE, WIDGETS } from '../../tests/e2e/widgets';

// A real loopback server for the host page: Chromium's Private Network Access refuses requests to
// 127.0.0.1 (the bundle) from a page answered by a Playwright route.
const HOST_PORT = 4498;
const HOST = `http://127.0.0.1:${HOST_PORT}`;
const TAGS = EMBEDDABLE.map((n) => WIDGETS[n].tag).filter((t) => t !== 'kv-memory');
const RUNS = 5;
const MUTATIONS = 5000;
const BATCH = 50;

const filler = Array.from(
  { length: 400 },
  (_, i) => `<div class="post" id="p${i}"><h3>Post ${i}</h3><p>Text <a href="#">link</a> <span>${i}</span></p></div>`,
).join('');

function hostHtml(variant: 'none' | 'bundle' | 'old'): string {
  const bundle = variant === 'bundle' ? `<script type="module" src="${BASE_URL}/kv-cache-lab.js"></script>` : '';
  const old =
    variant === 'old'
      ? `<script>const tags=${JSON.stringify(TAGS)};new MutationObserver(()=>{for(const t of tags){if(!customElements.get(t)&&document.body.querySelector(t)){}}}).observe(document.body,{childList:true,subtree:true});</script>`
      : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Busy host</title></head><body><main id="feed">${filler}</main><kv-memory model="llama-3-8b"></kv-memory>${bundle}${old}</body></html>`;
}

async function churn(page: Page): Promise<number> {
  return page.evaluate(
    async ({ MUTATIONS, BATCH }) => {
      const feed = document.getElementById('feed')!;
      // A resolved promise: its continuation is queued after the observers' microtask (queued by the
      // batch's first mutation), so each batch's observer work is inside the timing, without the
      // 4 ms clamp of setTimeout that would dominate it.
      const tick = () => Promise.resolve();
      await new Promise((r) => setTimeout(r, 0));
      const t0 = performance.now();
      let done = 0;
      while (done < MUTATIONS) {
        for (let i = 0; i < BATCH; i++, done++) {
          const k = done % 3;
          if (k === 0) {
            const d = document.createElement('div');
            d.className = 'ad';
            d.innerHTML = '<p><span>ad</span><b>x</b></p>';
            feed.append(d);
          } else if (k === 1) {
            (feed.children[done % feed.children.length] as HTMLElement).querySelector('span')?.replaceChildren(String(done));
          } else {
            feed.lastElementChild?.remove();
          }
        }
        await tick();
      }
      return performance.now() - t0;
    },
    { MUTATIONS, BATCH },
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('bundle observer cost on a page with thousands of mutations', async ({ page }) => {
  test.setTimeout(300_000);
  const server = http.createServer((req, res) => {
    const variant = (req.url ?? '').replace(/^\/|\.html$/g, '') as 'none' | 'bundle' | 'old';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(hostHtml(['none', 'bundle', 'old'].includes(variant) ? variant : 'none'));
  });
  await new Promise<void>((resolve) => server.listen(HOST_PORT, '127.0.0.1', () => resolve()));
  const results: Record<string, number[]> = { none: [], bundle: [], old: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const variant of ['none', 'bundle', 'old'] as const) {
      await page.goto(`${HOST}/${variant}.html`);
      if (variant === 'bundle') await page.locator('kv-memory .widget-body').waitFor();
      results[variant].push(await churn(page));
    }
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const summary = Object.fromEntries(
    Object.entries(results).map(([k, v]) => [k, { medianMs: +median(v).toFixed(1), runsMs: v.map((x) => +x.toFixed(1)) }]),
  );
  console.table(Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, { 'median ms': v.medianMs }])));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/embed-observer.json',
    `${JSON.stringify({ date: new Date().toISOString(), machine: `${os.cpus().length} CPU cores, load ${os.loadavg()[0].toFixed(1)}`, mutations: MUTATIONS, batch: BATCH, pendingTags: TAGS.length, summary }, null, 2)}\n`,
  );
});
