/** The residual widget's drift panel on real keys: Transformers re-quantizes the oldest tokens at every flush. */
import { test, expect, expectClean, axeViolations } from '../support';

test('drift panel: HQQ strided groups drift with each flush, quanto per-token groups stay at the quantize-once error', async ({
  page,
  log,
}) => {
  await page.goto('/embed/residual/?bits=2&group=64&residual=64');
  const w = page.locator('kv-residual');
  await expect(w).toHaveAttribute('data-drift', /;/);
  const rows = (await w.getAttribute('data-drift'))!.split(';').map((r) => r.split(',').map(Number));
  expect(rows.length).toBe(13); // flushes 0..12 (capped), 1,024 tokens with R = 64
  const [first, last] = [rows[0], rows[rows.length - 1]];
  // columns: quanto re-quantized, HQQ re-quantized, quantized once
  expect(Math.abs(last[0] - last[2]) / last[2]).toBeLessThan(0.01);
  expect(last[1]).toBeGreaterThan(first[1]);
  await expect(w.locator('.drift-summary', { hasText: 'after 12 flushes' })).toBeVisible();
  await w.locator('summary', { hasText: 'Show as table' }).last().click();
  await expect(w.locator('table').last()).toContainText('HQQ axis 0');
  // The group picture: group 0 at the 64-token prompt and after one flush (R = 64 → 128 tokens), G = 64, 2 heads.
  const pic = w.locator('.group-summary');
  await expect(pic).toContainText('At the prompt: 64 tokens: 64 elements in 1 channel(s), tokens 0, 2, 4, 6');
  await expect(pic).toContainText('After a flush: 128 tokens: 64 elements in 1 channel(s), tokens 0, 4, 8, 12');
  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});
