import { test, expect, expectClean } from './support';

const CHAPTER = '/articles/kv-cache-memory/';

test('math, code highlighting, figures, footnotes and citations render as elements', async ({ page, log }) => {
  await page.goto(CHAPTER);
  // KaTeX produced real math markup (with MathML for screen readers), not raw TeX.
  const display = page.locator('.katex-display');
  await expect(display.first()).toBeVisible();
  expect(await page.locator('.katex math').count()).toBeGreaterThan(3);
  await expect(page.locator('main')).not.toContainText('$$');
  // KaTeX fonts are served by the site.
  const fontOk = await page.evaluate(async () => {
    await document.fonts.ready;
    return [...document.fonts].some((f) => f.family.includes('KaTeX') && f.status === 'loaded');
  });
  expect(fontOk).toBe(true);
  // Shiki: a highlighted Python block with coloured tokens for both themes.
  const code = page.locator('pre.astro-code[data-language="python"]');
  await expect(code).toBeVisible();
  expect(await code.locator('span[style*="--shiki-light"]').count()).toBeGreaterThan(5);
  // Figure with caption.
  await expect(page.locator('figure img[alt]').first()).toBeVisible();
  await expect(page.locator('figure figcaption').first()).toContainText('Figure 1');
  // Footnote reference links to its note.
  const fnRef = page.locator('sup a[data-footnote-ref]').first();
  const fnTarget = await fnRef.getAttribute('href');
  expect(fnTarget).toMatch(/^#/);
  await expect(page.locator(fnTarget!)).toBeAttached();
  // Every citation links to an entry of the reference list.
  const cites = page.locator('a.citation');
  expect(await cites.count()).toBeGreaterThan(0);
  for (const href of await cites.evaluateAll((as) => as.map((a) => a.getAttribute('href')!))) {
    await expect(page.locator(`.references ${href}`)).toBeAttached();
  }
  // Table of contents and reading time.
  await expect(page.locator('nav.toc a').first()).toBeVisible();
  await expect(page.locator('.reading-time')).toContainText('min read');
  expectClean(log);
});

test('the memory calculator in chapter 1 responds to a keyboard-operated control', async ({ page, log }) => {
  await page.goto(CHAPTER);
  const widget = page.locator('kv-memory#mem1');
  const slider = widget.getByRole('slider', { name: /^bits$/i });
  await expect(slider).toHaveAttribute('aria-valuetext', '16 bits, unquantized fp16');
  const summary = widget.locator('.chart-summary');
  await expect(summary).toContainText('5.24 GB');
  await slider.focus();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  await expect(slider).toHaveAttribute('aria-valuetext', '3 bits, groups of 64');
  await expect(summary).toContainText('at 3 bits with groups of 64');
  await expect(page).toHaveURL(/mem1\.bits=3/);
  expectClean(log);
});

test('the home page lists chapters in order and links resolve', async ({ page, log }) => {
  await page.goto('/');
  const links = page.locator('.chapter-list a');
  expect(await links.count()).toBeGreaterThan(0);
  for (const href of await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')!))) {
    const res = await page.request.get(href);
    expect(res.status(), href).toBe(200);
  }
  expectClean(log);
});
