/**
 * Residual step-through redraw (decode-step slider, 1,024-token prefill) and the trade-off sweep time
 * on the bundled model's 512-token example (whole cache, 8 layers, keys and values: min-max + absmax, then HQQ).
 * Prints the figures; run with the harness config: npx playwright test -c bench/browser/playwright.config.ts tradeoff.
 */
import { test, expect } from '@playwright/test';
import { measureRedraw } from './measure';

test.describe.configure({ mode: 'serial' });

test('residual: decode-step redraw at 1,024 + N tokens', async ({ page }) => {
  await page.goto('/embed/residual/?prefill=1024&step=100');
  const stats = await measureRedraw(page, { selector: 'kv-residual', slider: 'Decode step', pattern: ['ArrowRight'] });
  console.log(`residual step redraw: median ${stats.median.toFixed(1)} ms, p95 ${stats.p95.toFixed(1)} ms (${stats.samples.length} steps)`);
  expect(stats.samples.length).toBeGreaterThan(0);
});

test('tradeoff: sweep time at 512 tokens', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/embed/tradeoff/');
  await page.getByRole('combobox', { name: 'Example', exact: true }).selectOption('heldout-512');
  const w = page.locator('kv-tradeoff');
  await expect(w).toHaveAttribute('data-sweep-done', 'true', { timeout: 280_000 });
  const fast = Number(await w.getAttribute('data-sweep-fast-ms'));
  const hqq = Number(await w.getAttribute('data-sweep-hqq-ms'));
  console.log(
    `tradeoff sweep at 512 tokens (kvlab-16m, 8 layers, K and V): min-max + absmax ${fast} ms (144 configurations), HQQ ${hqq} ms (80 configurations)`,
  );
});
