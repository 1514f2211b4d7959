/**
 * Issue 17 item 8: Cancel while the model downloads must stop the download, not wait for it to end. The
 * route holds model.onnx forever, so a cancel honoured only after the download would never arrive.
 */
import type { Request } from '@playwright/test';
import { test, expect } from '../support';

test('Cancel during the model download aborts it; Generate then works', async ({ page, context }) => {
  test.setTimeout(240_000);
  let held = 0;
  await context.route('**/models/kvlab-16m/onnx/model.onnx', () => {
    held++; // never answered
  });
  const failed: Request[] = [];
  context.on('requestfailed', (r) => {
    if (r.url().endsWith('/onnx/model.onnx')) failed.push(r);
  });
  await page.goto('/embed/generation/?maxnew=4');
  const widget = page.locator('kv-generation');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect.poll(() => held, { timeout: 60_000 }).toBeGreaterThan(0);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(widget).toHaveAttribute('data-done', 'cancelled', { timeout: 60_000 });
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled();
  // The held request itself was aborted by the page.
  await expect.poll(() => failed.length, { timeout: 30_000 }).toBeGreaterThan(0);

  await context.unroute('**/models/kvlab-16m/onnx/model.onnx');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(widget).toHaveAttribute('data-done', 'ok', { timeout: 200_000 });
});
