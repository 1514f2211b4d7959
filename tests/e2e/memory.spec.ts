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

for (const width of [360, 1280]) {
  test(`the GPU line carries a label with the memory it marks, inside the chart, and the summary names it (${width} px)`, async ({
    page,
    log,
  }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto('/embed/memory/?model=llama-2-7b&tokens=10000&gpu=16');
    // Llama-2-7B: 6.74 B parameters (meta-llama/Llama-2-7b-hf model card), 2 bytes each in fp16.
    const weights = (6.74e9 * 2) / 1e9;
    const left = 16 - weights;
    const label = `16 GB GPU − ${weights.toFixed(1)} GB weights = ${left.toFixed(1)} GB`;
    const svg = page.locator('kv-memory .plot svg[aria-label^="Line chart"]');
    const text = svg.locator('text', { hasText: 'GB GPU' });
    await expect(text).toHaveText(label);
    const geo = await svg.evaluate((s) => {
      const r = s.getBoundingClientRect();
      const t = [...s.querySelectorAll('text')].find((e) => e.textContent?.includes('GB GPU'))!.getBoundingClientRect();
      const rule = [...s.querySelectorAll('g[aria-label="rule"] line')].find(
        (l) => l.getAttribute('stroke-dasharray') === '2,2' || l.parentElement?.getAttribute('stroke-dasharray') === '2,2',
      )!;
      const lr = rule.getBoundingClientRect();
      return { inside: t.left >= r.left - 0.5 && t.right <= r.right + 0.5 && t.top >= r.top - 0.5, textBottom: t.bottom, ruleY: lr.top };
    });
    expect(geo.inside).toBe(true);
    // the label sits just above its line
    expect(geo.textBottom).toBeLessThanOrEqual(geo.ruleY + 1);
    expect(geo.ruleY - geo.textBottom).toBeLessThan(12);
    await expect(page.locator('kv-memory .chart-summary')).toContainText(`dotted red line at ${left.toFixed(1)} GB`);
    await expect(svg).toHaveAttribute('aria-label', new RegExp(`Dotted red horizontal line: ${label}`));
    // 80 GB (the default) is far above the curves at 10,000 tokens: no line, and the summary says why.
    await page.goto('/embed/memory/?model=llama-2-7b&tokens=10000');
    await expect(page.locator('kv-memory .chart-summary')).toContainText(
      `the ${(80 - weights).toFixed(1)} GB the 80 GB GPU leaves for the cache lies far above the curves`,
    );
    await expect(page.locator('kv-memory .plot svg text', { hasText: 'GB GPU' })).toHaveCount(0);
    expectClean(log);
  });
}
