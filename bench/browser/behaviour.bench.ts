/**
 * "Does the model notice?" widgets in Chromium on the bundled model:
 * - attention: redraw after a Bits key press at 256 tokens (precomputed example) and 1,024 tokens (live prefill);
 * - perplexity: one sweep of 6 cache configurations × 256 scored tokens (the held-out passage cut to 257 tokens);
 * - generation: a 64-token side-by-side generation (model already loaded by a warm-up run);
 * and the longest main-thread task (PerformanceObserver 'longtask') during the sweep and the generation.
 * Targets: redraw median ≤ 16 ms / p95 ≤ 33 ms; sweep < 15 s; generation < 3 s; no long task > 50 ms.
 * Prints the figures and writes bench/results/behaviour-browser.json.
 * Run: npx playwright test -c bench/browser/playwright.config.ts behaviour
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { test, expect, type Page } from '@playwright/test';
import { measureRedraw } from './measure';
import { configureLocalModels, loadRunner } from '../../src/workers/engine/runner';

test.describe.configure({ mode: 'serial' });

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} CPU cores, load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')} at start`,
  targets: { redrawMedianMs: 16, redrawP95Ms: 33, sweepMs: 15_000, generationMs: 3_000, longTaskMs: 50 },
};

/** Record every long task (> 50 ms) from page start. */
async function observeLongTasks(page: Page) {
  await page.addInitScript(() => {
    const w = window as unknown as { __long: { start: number; duration: number }[] };
    w.__long = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__long.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}
const now = (page: Page) => page.evaluate(() => performance.now());
const longestSince = (page: Page, t0: number) =>
  page.evaluate(
    (t0) =>
      Math.max(
        0,
        ...(window as unknown as { __long: { start: number; duration: number }[] }).__long
          .filter((e) => e.start >= t0)
          .map((e) => e.duration),
      ),
    t0,
  );

/** The held-out passage cut to the shortest prefix with `tokens` tokens (tokenized by the model's own tokenizer in Node). */
async function passageOf(tokens: number): Promise<string> {
  const text = readFileSync(path.join(ROOT, 'public/models/kvlab-16m/heldout-sample.txt'), 'utf8').trim();
  configureLocalModels(path.join(ROOT, 'public/models'));
  const runner = await loadRunner({ model: 'kvlab-16m' });
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (runner.encode(text.slice(0, mid)).length >= tokens) hi = mid;
    else lo = mid + 1;
  }
  const cut = text.slice(0, lo);
  await runner.dispose();
  return cut;
}

test('attention: redraw at 256 and 1,024 tokens', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/embed/attention/');
  const w = page.locator('kv-attention');
  await expect(w).toHaveAttribute('data-tokens', '256');
  const s256 = await measureRedraw(page, { selector: 'kv-attention', slider: 'Bits' });
  const text = readFileSync(path.join(ROOT, 'public/models/kvlab-16m/heldout-sample.txt'), 'utf8');
  await page.getByRole('textbox', { name: 'Your own prompt' }).fill(`${text}\n\n${text}`);
  await page.getByRole('button', { name: 'Run the model on this text' }).click();
  await expect(w).toHaveAttribute('data-tokens', '1024', { timeout: 240_000 });
  const s1024 = await measureRedraw(page, { selector: 'kv-attention', slider: 'Bits' });
  for (const [n, s] of [
    [256, s256],
    [1024, s1024],
  ] as const) {
    console.log(
      `attention redraw at ${n} tokens: median ${s.median.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms (phases: ${Object.entries(s.phases)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')})`,
    );
  }
  results.attentionRedraw = {
    tokens256: { median: s256.median, p95: s256.p95, phases: s256.phases, samples: s256.samples.length },
    tokens1024: { median: s1024.median, p95: s1024.p95, phases: s1024.phases, samples: s1024.samples.length },
  };
});

test('perplexity: 6 configurations × 256 tokens', async ({ page }) => {
  test.setTimeout(300_000);
  const text = await passageOf(257);
  await observeLongTasks(page);
  await page.goto('/embed/perplexity/');
  const w = page.locator('kv-perplexity');
  // Load the model first (a 1-config run on a short text), so the sweep time is scoring only.
  await page.getByRole('textbox', { name: /Text to score/ }).fill('A short warm-up text for the model.');
  await page.getByRole('checkbox', { name: 'int4 quanto (min-max), G64' }).uncheck();
  await page.getByRole('button', { name: 'Run' }).click();
  await expect(w).toHaveAttribute('data-done', 'ok', { timeout: 240_000 });
  await page.getByRole('checkbox', { name: 'int4 quanto (min-max), G64' }).check();
  await page.getByRole('textbox', { name: /Text to score/ }).fill(text);
  const t0 = await now(page);
  await page.getByRole('button', { name: 'Run' }).click();
  await expect(w.locator('.status')).toContainText(/Scored 6 configurations × 25\d tokens/, { timeout: 280_000 });
  const sweepMs = Number(await w.getAttribute('data-sweep-ms'));
  const longest = await longestSince(page, t0);
  console.log(
    `perplexity sweep, 6 configs × 256 tokens: ${(sweepMs / 1000).toFixed(2)} s; longest main-thread task ${longest.toFixed(0)} ms`,
  );
  results.perplexitySweep = { configs: 6, tokens: 256, ms: sweepMs, longestTaskMs: longest };
});

test('generation: 64 tokens side by side', async ({ page }) => {
  test.setTimeout(300_000);
  await observeLongTasks(page);
  await page.goto('/embed/generation/?maxnew=8');
  const w = page.locator('kv-generation');
  await page.getByRole('button', { name: 'Generate' }).click(); // warm-up: loads the model
  await expect(w).toHaveAttribute('data-done', 'ok', { timeout: 240_000 });
  const maxnew = page.getByRole('slider', { name: 'New tokens' });
  await maxnew.focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight'); // 8 → 64
  await expect(maxnew).toHaveAttribute('aria-valuetext', '64 new tokens');
  const t0 = await now(page);
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(w).toHaveAttribute('data-done', 'ok', { timeout: 240_000 });
  const ms = (await now(page)) - t0;
  const longest = await longestSince(page, t0);
  const status = await w.locator('.status').textContent();
  console.log(
    `generation, 64 tokens × 2 streams: ${(ms / 1000).toFixed(2)} s (${status}); longest main-thread task ${longest.toFixed(0)} ms`,
  );
  results.generation = { tokens: 64, ms, longestTaskMs: longest, status };
});

test.afterAll(() => {
  results.machineAtEnd = `load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')} at end`;
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path.join(ROOT, 'bench/results/behaviour-browser.json'), JSON.stringify(results, null, 2) + '\n');
});
