import { readFileSync } from 'node:fs';
import { test, expect, expectClean, axeViolations } from '../support';

const widget = (page: import('@playwright/test').Page) => page.locator('kv-perplexity');
const ppl = async (page: import('@playwright/test').Page, id: string) => {
  const row = widget(page).locator(`tr[data-config="${id}"]`);
  // The displayed value (3 decimals) is what the reader sees: assert on it.
  return Number(await row.locator('td').first().textContent());
};

/** Real Transformers on the same model and protocol (issue 12 §7; see the fixture's "source"). */
const transformers = JSON.parse(readFileSync('tests/fixtures/model/transformers-perplexity.json', 'utf8')) as {
  perplexity: Record<string, number>;
};

test('the held-out figures equal real Transformers (±0.005); a setting Transformers cannot run shows its reason, not a number', async ({
  page,
  log,
}) => {
  test.setTimeout(300_000);
  await page.goto('/embed/perplexity/?configs=fp32,quanto-int2,hqq-int2,hqq-int2-axis1');
  await expect(widget(page).locator('.status')).toContainText('Press Run');
  expect(await axeViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Run' }).press('Enter');
  await expect(widget(page)).toHaveAttribute('data-done', 'ok', { timeout: 280_000 });
  const fp = await ppl(page, 'fp32');
  const int2 = await ppl(page, 'quanto-int2');
  expect(Math.abs(fp - transformers.perplexity.fp32)).toBeLessThanOrEqual(0.005);
  expect(Math.abs(int2 - transformers.perplexity['quanto-int2'])).toBeLessThanOrEqual(0.005);
  await expect(widget(page).locator('tr[data-config="quanto-int2"] td').nth(1)).toHaveText(/^\+\d+\.\d\d %$/);
  // HQQ axis 0 (Transformers' hqq default, strided groups) runs in the browser too.
  expect(await ppl(page, 'hqq-int2')).toBeGreaterThan(int2);
  const failed = widget(page).locator('tr[data-config="hqq-int2-axis1"]');
  await expect(failed.locator('td')).toHaveCount(1);
  await expect(failed.locator('td')).toContainText('Fails in Transformers with 1 cached token');
  await expect(failed).not.toHaveAttribute('data-perplexity');
  // Per-position KL: quantiles in the table, plain or scientific numbers (no SI prefixes), a histogram with its text.
  await expect(widget(page).locator('tr[data-config="quanto-int2"] td').nth(3)).toHaveText(/^[\d.e-]+ \/ [\d.e-]+ \/ [\d.e-]+$/);
  await expect(widget(page).locator('.ppl-kl-summary')).toContainText('quanto int2, axis 0, G64: mean');
  await expect(widget(page).locator('.plot svg[aria-label*="share of token positions by KL"]')).toHaveCount(1);
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
  const int8 = page.getByRole('checkbox', { name: 'hqq int8, axis 0, G64' });
  await int8.focus();
  await page.keyboard.press('Space');
  await expect(page).toHaveURL(/configs=fp32%2Cquanto-int4%2Cquanto-int2%2Chqq-int8%2C/);
  const r = page.getByRole('slider', { name: 'Residual length R' });
  await r.focus();
  await page.keyboard.press('ArrowLeft'); // 128 → 64
  await expect(page).toHaveURL(/[?&]residual=64(&|$)/);
  await expect(widget(page).locator('.ppl-summary')).toContainText('R = 64');
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
  await expect(page.getByRole('checkbox', { name: 'hqq int2, axis 0, G64' })).not.toBeChecked();
  await expect(page.getByRole('button', { name: 'Run' })).toBeEnabled();
  expectClean(log);
});
