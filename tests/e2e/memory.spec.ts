import { test, expect, expectClean, axeViolations } from './support';

test('the blog case: Llama-2-7B, 10,000 tokens, fp16 → 5.24 GB', async ({ page, log }) => {
  await page.goto('/embed/memory/?model=llama-2-7b&tokens=10000&bits=16');
  const total = page.locator('kv-memory [data-metric="total"] .value');
  await expect(total).toHaveText('5.24 GB (4.88 GiB)');
  await expect(page.locator('kv-memory .chart-summary')).toContainText('5.24 GB');
  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});

test('keyboard on the bits slider changes the numbers, the chart and the URL', async ({ page, log }) => {
  await page.goto('/embed/memory/?model=llama-2-7b&tokens=10000&bits=16');
  const bits = page.getByRole('slider', { name: 'Bits' });
  await expect(bits).toHaveAttribute('aria-valuetext', '16 bits, unquantized fp16');
  const lines = page.locator('kv-memory .plot').first().locator('path');
  const before = await lines.count();
  await bits.focus();
  await page.keyboard.press('ArrowLeft'); // 16 → 8
  await expect(page).toHaveURL(/[?&]bits=8(&|$)/);
  await page.keyboard.press('ArrowLeft'); // 8 → 4, the default: dropped from the URL
  await expect(bits).toHaveAttribute('aria-valuetext', '4 bits, groups of 64');
  await expect(page).not.toHaveURL(/bits=/);
  // int4, G64, residual 128 of 10,000 tokens: payload 0.5 B + meta 4/64 B per quantized element, residual at 2 B.
  const perElem = 2 * 32 * 32 * 128;
  const expected = (perElem * 9872 * (0.5 + 4 / 64) + perElem * 128 * 2) / 1e9;
  await expect(page.locator('kv-memory [data-metric="total"] .value')).toContainText(`${expected.toFixed(2)} GB`);
  expect(await lines.count()).toBeGreaterThan(before);
  // The "+" stepper is keyboard operable too.
  await page.getByRole('button', { name: 'Increase bits' }).press('Enter');
  await expect(bits).toHaveAttribute('aria-valuetext', '8 bits, groups of 64');
  expectClean(log);
});

test('invalid parameters fall back to defaults with a visible note', async ({ page, log }) => {
  await page.goto('/embed/memory/?model=gpt-9&bits=5&tokens=-3&prompt=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E');
  const notes = page.locator('kv-memory .param-notes');
  await expect(notes).toBeVisible();
  await expect(notes).toContainText('model="gpt-9" is not valid');
  await expect(notes).toContainText('bits="5" is not valid');
  await expect(notes).toContainText('tokens="-3" is not valid');
  await expect(page.locator('kv-memory [data-metric="total"] .value')).toContainText('GB');
  expectClean(log);
});
