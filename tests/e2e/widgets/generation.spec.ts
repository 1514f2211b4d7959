import { readFileSync } from 'node:fs';
import { test, expect, expectClean, axeViolations } from '../support';

/** PyTorch greedy continuations of the shipped model (scripts/model/verify.py). */
const reference = JSON.parse(readFileSync('tests/fixtures/model/reference.json', 'utf8')) as {
  new_tokens: number;
  prompts: { prompt: string; greedy_text: string }[];
};

const widget = (page: import('@playwright/test').Page) => page.locator('kv-generation');

test('nothing runs on load; the default side by side streams, marks the first difference and plots KL; axe clean light and dark', async ({
  page,
  log,
}) => {
  test.setTimeout(240_000);
  const worker: string[] = [];
  page.on('worker', (w) => worker.push(w.url()));
  await page.goto('/embed/generation/?maxnew=16');
  await expect(widget(page).locator('.status')).toContainText('Press Generate');
  await page.waitForTimeout(500);
  expect(worker).toEqual([]); // no auto-start
  expect(await axeViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Generate' }).press('Enter');
  await expect(widget(page)).toHaveAttribute('data-done', 'ok', { timeout: 200_000 });
  await expect(widget(page).locator('.status')).toContainText('Done: 16 tokens');
  const exact = await widget(page).getAttribute('data-exact-text');
  expect(exact!.length).toBeGreaterThan(10);
  await expect(widget(page).locator('[data-stream="exact"] .gen-text')).toContainText('I like rock music because');
  const fd = await widget(page).getAttribute('data-first-divergence');
  if (fd !== 'none') {
    await expect(widget(page).locator('mark.gen-diverge')).toHaveCount(2);
    await expect(widget(page).locator('.chart-summary')).toContainText(`First difference at token ${Number(fd) + 1}`);
  } else await expect(widget(page).locator('.chart-summary')).toContainText('identical');
  await expect(widget(page).locator('.plot svg[aria-label*="KL divergence"]')).toHaveCount(1);
  // The KL axis's ticks are plain or scientific numbers (formatNats), never SI prefixes such as "1µ" or "10m".
  const ticks = await widget(page)
    .locator('.plot svg[aria-label*="KL divergence"] g[aria-label="y-axis tick label"] text')
    .allTextContents();
  expect(ticks.length).toBeGreaterThan(1);
  for (const t of ticks) expect(t).toMatch(/^\d+(\.\d+)?(e-\d+)?$/);
  expect(ticks.map(Number).every((v, i, a) => Number.isFinite(v) && (i === 0 || v > a[i - 1]))).toBe(true);
  // Teacher-forced comparison over the exact continuation: in the summary, the chart and as data.
  await expect(widget(page).locator('.chart-summary')).toContainText('Teacher-forced over the exact continuation');
  await expect(widget(page).locator('.plot svg[aria-label*="teacher-forced"]')).toHaveCount(1);
  const forcedTop1 = Number(await widget(page).getAttribute('data-forced-top1'));
  expect(forcedTop1).toBeGreaterThan(0);
  expect(forcedTop1).toBeLessThanOrEqual(1);
  // Nats are written plainly or in scientific notation, never with SI prefixes.
  expect(await widget(page).locator('.chart-summary').textContent()).not.toMatch(/\d[µm] nats/);
  expect(await axeViolations(page)).toEqual([]);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/embed/generation/?theme=dark');
  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});

test('plain greedy exact-cache text equals the PyTorch reference continuation', async ({ page, log }) => {
  test.setTimeout(240_000);
  const ref = reference.prompts.find((p) => p.prompt === 'I like rock music because')!;
  await page.goto(`/embed/generation/?penalty=1&maxnew=${reference.new_tokens}&bits=2`);
  await expect(page.getByRole('slider', { name: 'Repetition penalty' })).toHaveAttribute('aria-valuetext', 'no repetition penalty');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(widget(page)).toHaveAttribute('data-done', 'ok', { timeout: 200_000 });
  expect(await widget(page).getAttribute('data-exact-text')).toBe(ref.greedy_text);
  expectClean(log);
});

test('keyboard controls change the URL; Cancel stops a long run and says after how many tokens', async ({ page, log }) => {
  test.setTimeout(240_000);
  await page.goto('/embed/generation/');
  const bits = page.getByRole('slider', { name: 'Bits' });
  await bits.focus();
  await page.keyboard.press('ArrowLeft'); // 4 → 3
  await page.keyboard.press('ArrowLeft'); // 3 → 2
  await expect(page).toHaveURL(/[?&]bits=2(&|$)/);
  const residual = page.getByRole('slider', { name: 'Residual length' });
  await residual.focus();
  await page.keyboard.press('Home'); // 0
  await expect(page).toHaveURL(/[?&]residual=0(&|$)/);
  await page.getByRole('slider', { name: 'Group size' }).focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page).toHaveURL(/[?&]group=32(&|$)/);
  await page.getByRole('combobox', { name: 'Key grouping' }).selectOption('channel');
  await expect(page).toHaveURL(/[?&]kaxis=channel(&|$)/);
  await page.getByRole('combobox', { name: 'Decoding' }).selectOption('sample');
  await expect(page).toHaveURL(/[?&]strategy=sample(&|$)/);
  await expect(page.getByRole('slider', { name: 'Temperature' })).toBeVisible();
  await page.getByRole('combobox', { name: 'Decoding' }).selectOption('greedy');
  const maxnew = page.getByRole('slider', { name: 'New tokens' });
  await maxnew.focus();
  await page.keyboard.press('End'); // 256
  await expect(page).toHaveURL(/[?&]maxnew=256(&|$)/);
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(widget(page).locator('.status')).toContainText(/Generating: [3-9]\d* of 256/, { timeout: 200_000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(widget(page)).toHaveAttribute('data-done', 'cancelled', { timeout: 30_000 });
  await expect(widget(page).locator('.status')).toContainText(/Cancelled after \d+ tokens/);
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled();
  expectClean(log);
});

test('invalid parameters show a note and a working widget', async ({ page, log }) => {
  await page.goto('/embed/generation/?maxnew=9999&strategy=beam&penalty=7&prompt=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E');
  const notes = widget(page).locator('.param-notes');
  await expect(notes).toContainText('maxnew="9999" is not valid');
  await expect(notes).toContainText('strategy="beam" is not valid');
  await expect(notes).toContainText('penalty="7" is not valid');
  await expect(page.getByRole('textbox', { name: 'Prompt' })).toHaveValue('<img src=x onerror=alert(1)>');
  expect(await widget(page).locator('img').count()).toBe(0);
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled();
  expectClean(log);
});
