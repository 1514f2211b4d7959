import { readFileSync } from 'node:fs';
import type { Download, Page } from '@playwright/test';
import { test, expect, expectClean, axeViolations } from './support';

/**
 * Classroom features: charts and their data leave the page as files (SVG, PNG, CSV),
 * each chapter can be cited (BibTeX with the address it is read at), and it prints cleanly.
 */
const CHAPTER = '/articles/kv-cache-memory/';

async function saved(page: Page, act: () => Promise<void>): Promise<{ download: Download; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), act()]);
  const path = await download.path();
  return { download, bytes: readFileSync(path) };
}

/** RFC 4180 records, parsed independently of src/widgets/shared/export.ts (quoted fields may hold CR, LF, commas). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\r' && text[i + 1] === '\n') {
      endField();
      rows.push(row);
      row = [];
      i++;
    } else field += c;
  }
  if (field || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}

test('a chart downloads as SVG and PNG, its data as CSV that matches the table', async ({ page, log }) => {
  await page.goto(CHAPTER);
  const widget = page.locator('kv-memory').first();
  const svgInPage = widget.locator('.plot svg').first();
  await expect(svgInPage).toBeVisible();

  // CSV: open the table, compare header and row count with what the reader sees.
  const table = widget.locator('details.data-table').first();
  await table.locator('summary').click();
  const headers = await table.locator('thead th').allTextContents();
  const bodyRows = await table.locator('tbody tr').count();
  const firstRow = await table.locator('tbody tr').first().locator('td').allTextContents();
  expect(bodyRows).toBeGreaterThan(0);
  const csvButton = table.getByRole('button', { name: /^Download the table “.+” as CSV$/ });
  const csv = await saved(page, () => csvButton.click());
  expect(csv.download.suggestedFilename()).toMatch(/^kv-memory-[a-z0-9-]+\.csv$/);
  expect([...csv.bytes.subarray(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf]); // no BOM
  const text = new TextDecoder('utf-8', { fatal: true }).decode(csv.bytes);
  expect(text.endsWith('\r\n')).toBe(true);
  const records = parseCsv(text);
  expect(records[0]).toEqual(headers);
  expect(records.length).toBe(bodyRows + 1);
  expect(records.every((r) => r.length === headers.length)).toBe(true);
  // Numbers are plain text at full precision: each parses, and agrees with the table (4 significant digits, 3 in exponent form).
  let numeric = 0;
  records[1].forEach((cell, i) => {
    const shown = Number(firstRow[i].replace(/,/g, ''));
    if (firstRow[i] === '' || Number.isNaN(shown) || Number.isNaN(Number(cell))) return;
    numeric++;
    expect(Math.abs(Number(cell) - shown)).toBeLessThanOrEqual(5e-3 * Math.abs(shown));
  });
  expect(numeric).toBeGreaterThan(0);

  // SVG, from the keyboard: a standalone XML document with a size.
  const bar = widget.locator('.figure-export').first();
  const svgButton = bar.getByRole('button', { name: /^Download the chart “.+” as SVG$/ });
  await svgButton.focus();
  const svg = await saved(page, () => page.keyboard.press('Enter'));
  expect(svg.download.suggestedFilename()).toMatch(/^kv-memory-[a-z0-9-]+\.svg$/);
  const svgText = svg.bytes.toString('utf8');
  expect(svgText.startsWith('<?xml')).toBe(true);
  const parsed = await page.evaluate((s) => {
    const doc = new DOMParser().parseFromString(s, 'image/svg+xml');
    const root = doc.documentElement;
    return {
      error: doc.getElementsByTagName('parsererror').length > 0,
      name: root.localName,
      ns: root.namespaceURI,
      width: Number(root.getAttribute('width')),
      height: Number(root.getAttribute('height')),
      texts: doc.getElementsByTagName('text').length,
      styled: [...doc.getElementsByTagName('text')].every((t) => /font-family/.test(t.getAttribute('style') ?? '')),
    };
  }, svgText);
  expect(parsed.error).toBe(false);
  expect(parsed.name).toBe('svg');
  expect(parsed.ns).toBe('http://www.w3.org/2000/svg');
  expect(parsed.width).toBeGreaterThan(100);
  expect(parsed.height).toBeGreaterThan(50);
  expect(parsed.texts).toBeGreaterThan(0);
  expect(parsed.styled).toBe(true);
  // The chart is the largest SVG in the first chart container (Plot's colour swatches are small SVGs beside it).
  const inPage = await widget
    .locator('.plot')
    .first()
    .evaluate((plot) => {
      const sizes = [...plot.querySelectorAll('svg')].map((s) => ({
        w: Number(s.getAttribute('width')),
        h: Number(s.getAttribute('height')),
      }));
      return sizes.sort((a, b) => b.w * b.h - a.w * a.h)[0];
    });
  expect([parsed.width, parsed.height]).toEqual([inPage.w, inPage.h]);

  // PNG: the PNG signature, and an IHDR twice the chart's size (drawn at 2×).
  const png = await saved(page, () => bar.getByRole('button', { name: /as PNG$/ }).click());
  expect(png.download.suggestedFilename()).toMatch(/\.png$/);
  expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(png.bytes.readUInt32BE(16)).toBe(Math.round(inPage.w * 2));
  expect(png.bytes.readUInt32BE(20)).toBe(Math.round(inPage.h * 2));

  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});

test('Cite this page gives BibTeX with the address the page is read at', async ({ page, log }) => {
  await page.goto(`${CHAPTER}?kv1.bits=2#top`);
  const cite = page.locator('details.cite');
  await cite.locator('summary').click();
  const code = cite.locator('pre code');
  const here = new URL(page.url());
  await expect(code).toContainText('@misc{kvcachelab-kv-cache-memory,');
  // Origin and path from location (no widget state, no fragment).
  await expect(code).toContainText(`url = {${here.origin}${here.pathname}}`);
  await expect(code).toContainText('author = {{KV Cache Lab}}');
  await expect(code).toContainText(/year = \{\d{4}\}/);
  await expect(code).toContainText(/note = \{Accessed \d{4}-\d{2}-\d{2}\}/);
  const title = (await page.locator('article h1').textContent())!.trim();
  await expect(code).toContainText(`title = {{${title.replace(/[{}&%$#_]/g, (c) => `\\${c}`)}}}`);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await cite.getByRole('button', { name: 'Copy BibTeX' }).click();
  await expect(cite.locator('.cite-feedback')).not.toBeEmpty();
  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});

test('print: no site navigation or controls, figures stay', async ({ page, log }) => {
  await page.goto(CHAPTER);
  const widget = page.locator('kv-memory').first();
  await expect(widget.locator('.plot svg').first()).toBeVisible();
  await expect(page.locator('.site-header')).toBeVisible();
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('.site-header')).toBeHidden();
  await expect(page.locator('.chapter-nav')).toBeHidden();
  await expect(widget.locator('.widget-controls')).toBeHidden();
  await expect(widget.locator('.figure-export').first()).toBeHidden();
  await expect(widget.locator('.plot svg').first()).toBeVisible();
  await expect(page.locator('article h1')).toBeVisible();
  const colours = await page.evaluate(() => ({
    bg: getComputedStyle(document.body).backgroundColor,
    fg: getComputedStyle(document.body).color,
  }));
  expect(colours).toEqual({ bg: 'rgb(255, 255, 255)', fg: 'rgb(0, 0, 0)' });
  // A figure is not split across pages.
  expect(
    await widget
      .locator('.plot svg')
      .first()
      .evaluate((s) => getComputedStyle(s).breakInside),
  ).toBe('avoid');
  expectClean(log);
});

test('a heatmap canvas downloads as PNG (2×, unsmoothed) and as SVG wrapping that bitmap', async ({ page, log }) => {
  await page.goto('/articles/keys-and-values/');
  const explorer = page.locator('kv-explorer').first();
  const canvas = explorer.locator('canvas.heatmap').first();
  await expect(canvas).toBeVisible();
  // drawHeatmap sizes the canvas to one pixel per cell; the browser default is 300 × 150.
  await expect.poll(() => canvas.evaluate((c: HTMLCanvasElement) => `${c.width}x${c.height}`), { timeout: 60_000 }).not.toBe('300x150');
  const figure = explorer.locator('figure.heatmap-figure').first();
  const shown = await canvas.evaluate((c) => ({ w: c.clientWidth, h: c.clientHeight }));
  const png = await saved(page, () =>
    figure
      .locator('.figure-export')
      .getByRole('button', { name: /as PNG$/ })
      .click(),
  );
  expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(png.bytes.readUInt32BE(16)).toBe(shown.w * 2);
  expect(png.bytes.readUInt32BE(20)).toBe(shown.h * 2);
  const svg = await saved(page, () =>
    figure
      .locator('.figure-export')
      .getByRole('button', { name: /as SVG$/ })
      .click(),
  );
  const text = svg.bytes.toString('utf8');
  expect(text).toContain('<image href="data:image/png;base64,');
  const ok = await page.evaluate((s) => {
    const doc = new DOMParser().parseFromString(s, 'image/svg+xml');
    return doc.getElementsByTagName('parsererror').length === 0 && doc.documentElement.localName === 'svg';
  }, text);
  expect(ok).toBe(true);
  expectClean(log);
});
