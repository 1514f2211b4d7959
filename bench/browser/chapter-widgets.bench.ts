/**
 * Redraw time of the vector and rotation widgets on their chapter pages, read from the `lastRedrawMs`
 * property they set after each synchronous redraw (they do not dispatch `kv-rendered`, so measure.ts
 * cannot time them). These figures used to be asserted in tests/e2e/chapters.spec.ts (< 50 ms); the e2e
 * suite no longer asserts times, so they are reported here. Target as for the other single-head views:
 * median ≤ 16 ms, p95 ≤ 33 ms. Run: npx playwright test -c bench/browser/playwright.config.ts chapter-widgets.
 */
import { test, expect } from '@playwright/test';
import { quantile } from './measure';

const CASES = [
  { name: 'kv-vector', url: '/articles/quantization-basics/', selector: 'kv-vector#vec1', ready: 'data-relative-error', slider: 'Bits' },
  { name: 'kv-rotation', url: '/articles/beyond-the-post/', selector: 'kv-rotation#rot1', ready: 'data-error-plain', slider: 'Bits' },
];
const STEPS = Number(process.env.BENCH_STEPS ?? 40);

for (const c of CASES) {
  test(`${c.name}: redraw after a Bits key press (lastRedrawMs)`, async ({ page }) => {
    await page.goto(c.url);
    const w = page.locator(c.selector);
    await expect(w).toHaveAttribute(c.ready, /\d/);
    await w.getByRole('slider', { name: c.slider, exact: true }).focus();
    const times: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      await page.keyboard.press(i % 2 === 0 ? 'ArrowRight' : 'ArrowLeft');
      times.push(await w.evaluate((e) => (e as unknown as { lastRedrawMs: number }).lastRedrawMs));
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(
      `${c.name} redraw: median ${quantile(sorted, 0.5).toFixed(1)} ms, p95 ${quantile(sorted, 0.95).toFixed(1)} ms (${STEPS} key presses)`,
    );
    expect(times.length).toBe(STEPS);
  });
}
