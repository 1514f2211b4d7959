import { test, expect, expectClean, axeViolations } from '../support';

const widget = (page: import('@playwright/test').Page) => page.locator('kv-perplexity');
const ppl = async (page: import('@playwright/test').Page, id: string) => {
  const row = widget(page).locator(`tr[data-config="${id}"]`);
  // The displayed value (3 decimals) is what the reader sees: assert on it.
  return Number(await row.locator('td').first().textContent());
};

test('8-bit is within 1 % of fp32 and 2-bit per-token min-max is clearly worse (held-out passage, R 32)', async ({ page, log }) => {
  test.setTimeout(300_000);
  await page.goto('/embed/perplexity/?configs=fp32,quanto-int8,quanto-int2&residual=32');
  await expect(widget(page).locator('.status')).toContainText('Press Run');
  expect(await axeViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Run' }).press('Enter');
  await expect(widget(page)).toHaveAttribute('data-done', 'ok', { timeout: 280_000 });
  const fp = await ppl(page, 'fp32');
  const int8 = await ppl(page, 'quanto-int8');
  const int2 = await ppl(page, 'quanto-int2');
  expect(fp).toBeGreaterThan(1);
  expect(Math.abs(int8 / fp - 1)).toBeLessThan(0.01);
  expect(int2 / fp - 1).toBeGreaterThan(0.02);
  await expect(widget(page).locator('tr[data-config="quanto-int2"] td').nth(1)).toHaveText(/^\+\d+\.\d\d %$/);
  await expect(widget(page).locator('.chart-summary')).toContainText('R = 32');
  await expect(widget(page).locator('.plot svg[aria-label*="running log-perplexity"]')).toHaveCount(1);
  expect(await axeViolations(page)).toEqual([]);
  // Cached for the session: a second Run with the same settings answers at once.
  await page.getByRole('button', { name: 'Run' }).click();
  await expect(widget(page).locator('.status')).toContainText('already scored');
  expectClean(log);
});

test('keyboard: configuration checkboxes and R change the URL; Cancel stops a sweep', async ({ page, log }) => {
  test.setTimeout(240_000);
  await page.goto('/embed/perplexity/?theme=dark');
  expect(await axeViolations(page)).toEqual([]);
  const int8 = page.getByRole('checkbox', { name: 'int8 min-max, G64' });
  await int8.focus();
  await page.keyboard.press('Space');
  await expect(page).toHaveURL(/configs=fp32%2Cquanto-int8%2C/);
  const r = page.getByRole('slider', { name: 'Residual length R' });
  await r.focus();
  await page.keyboard.press('ArrowLeft'); // 128 → 64
  await expect(page).toHaveURL(/[?&]residual=64(&|$)/);
  await expect(widget(page).locator('.chart-summary')).toContainText('R = 64');
  await page.getByRole('button', { name: 'Run' }).click();
  await expect(widget(page).locator('.status')).toContainText(/Scoring/, { timeout: 200_000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(widget(page)).toHaveAttribute('data-done', 'cancelled', { timeout: 30_000 });
  await expect(widget(page).locator('.status')).toContainText('Cancelled after');
  expectClean(log);
});

test('invalid parameters show a note and a working widget', async ({ page, log }) => {
  await page.goto('/embed/perplexity/?configs=fp32,int3&residual=-4');
  const notes = widget(page).locator('.param-notes');
  await expect(notes).toContainText('"int3"');
  await expect(notes).toContainText('residual="-4" is not valid');
  await expect(page.getByRole('checkbox', { name: 'fp32 (exact)' })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'int2 HQQ, G64' })).not.toBeChecked();
  await expect(page.getByRole('button', { name: 'Run' })).toBeEnabled();
  expectClean(log);
});
