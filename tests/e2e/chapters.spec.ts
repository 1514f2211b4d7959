import { readFileSync } from 'node:fs';
import { test, expect, expectClean, axeViolations } from './support';
import { decodePrecomputed, type PrecomputedManifest } from '../../src/lib/model/precomputed';
import { fakeQuantize, hadamardRotate, relativeError, type KVTensor } from '../../src/lib/quant/index';

/** Every chapter and the widget tags its prose relies on. */
const CHAPTERS: Array<{ slug: string; widgets: string[] }> = [
  { slug: 'kv-cache-memory', widgets: ['kv-memory'] },
  { slug: 'quantization-basics', widgets: ['kv-vector'] },
  { slug: 'keys-and-values', widgets: ['kv-explorer', 'kv-quantizer'] },
  { slug: 'groups-bits-residual', widgets: ['kv-quantizer', 'kv-residual'] },
  { slug: 'tradeoff', widgets: ['kv-tradeoff'] },
  { slug: 'does-the-model-notice', widgets: ['kv-attention', 'kv-generation', 'kv-perplexity'] },
  { slug: 'beyond-the-post', widgets: ['kv-rotation'] },
  { slug: 'using-it-in-transformers', widgets: ['kv-config'] },
  { slug: 'serving-engines', widgets: ['kv-quantizer'] },
];
const url = (slug: string) => `/articles/${slug}/`;

/**
 * Expected numbers use the engine's plain-JavaScript kernels: the optional WASM path (bit-identical by design)
 * is switched off in Node when present, so a WASM problem cannot hide behind the reference.
 */
test.beforeAll(async () => {
  const wasm = (await import('../../src/lib/quant/wasm/index').catch(() => null)) as { setWasmEnabled?(on: boolean): void } | null;
  wasm?.setWasmEnabled?.(false);
});

/** The first precomputed example (what the widgets draw first), decoded in Node. */
function firstExample() {
  const index = JSON.parse(readFileSync('public/precomputed/index.json', 'utf8')) as { items: Array<{ manifest: string }> };
  const manifest = JSON.parse(readFileSync(`public/precomputed/${index.items[0].manifest}`, 'utf8')) as PrecomputedManifest;
  const bin = readFileSync(`public/precomputed/${manifest.bin}`);
  return decodePrecomputed(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer);
}
function headOf(t: KVTensor, head: number): KVTensor {
  const n = t.tokens * t.headDim;
  return { data: t.data.slice(head * n, (head + 1) * n), heads: 1, tokens: t.tokens, headDim: t.headDim };
}

for (const { slug, widgets } of CHAPTERS) {
  test(`${slug}: widgets upgrade and draw, citations resolve, axe clean in light and dark`, async ({ page, log }) => {
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
    await page.goto(url(slug));
    for (const tag of widgets) {
      const el = page.locator(tag).first();
      await expect(el).toBeAttached();
      expect(await page.evaluate((t) => customElements.whenDefined(t).then(() => true), tag)).toBe(true);
      await expect(el.locator('.widget')).toBeAttached();
      // Something drawn: a chart, a heatmap, metrics, code or a summary sentence.
      await expect(el.locator('.widget-body :is(svg, canvas, .metric, pre, .chart-summary, table, button)').first()).toBeAttached();
    }
    // The chapter has takeaways and every citation links to an entry of its reference list.
    await expect(page.locator('.takeaways')).toBeVisible();
    const cites = await page.locator('a.citation').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    expect(cites.length).toBeGreaterThan(0);
    for (const href of cites) await expect(page.locator(`.references ${href}`)).toBeAttached();
    expect(await axeViolations(page)).toEqual([]);
    // The quantizer's whole-cache row comes from a worker: let it finish, or the reload aborts the worker's script
    // (a failed request for expectClean).
    if (widgets.includes('kv-quantizer')) await expect(page.locator('kv-quantizer').first()).toHaveAttribute('data-whole', 'done');
    // Reload in the dark scheme, as a reader arriving with a dark system theme would.
    await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
    await page.reload();
    for (const tag of widgets) await expect(page.locator(tag).first().locator('.widget')).toBeAttached();
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(18, 20, 24)');
    expect(await axeViolations(page)).toEqual([]);
    expectClean(log);
  });
}

/**
 * The axe check above runs once widgets have drawn, but a reader (and a screen reader) meets each widget while
 * its tensors are still on the way. Hold every tensor and model file back so the loading state is what axe sees:
 * a canvas with role="img" and no name yet failed here before the canvases were named at creation.
 */
for (const { slug, widgets } of CHAPTERS) {
  test(`${slug}: axe clean while the tensors are still loading`, async ({ page, log }) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    await page.route(/\/(precomputed|models)\//, async (route) => {
      await released;
      await route.continue().catch(() => {});
    });
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
    await page.goto(url(slug));
    for (const tag of widgets) await expect(page.locator(tag).first().locator('.widget')).toBeAttached();
    expect(await axeViolations(page)).toEqual([]);
    release();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    expect(log.externalRequests).toEqual([]);
    expect(log.consoleErrors).toEqual([]);
  });
}

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('every internal link on every chapter, the glossary and the references page resolves; widgets show their fallback', async ({
    page,
    log,
  }) => {
    const pages = [...CHAPTERS.map((c) => url(c.slug)), '/glossary/', '/references/', '/'];
    const links = new Set<string>();
    for (const p of pages) {
      await page.goto(p);
      const chapter = CHAPTERS.find((c) => url(c.slug) === p);
      for (const tag of chapter?.widgets ?? []) await expect(page.locator(`${tag} .note`).first()).toBeVisible();
      const hrefs = await page.locator('a[href]').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
      for (const h of hrefs) {
        const u = new URL(h);
        if (u.origin !== new URL(page.url()).origin) continue;
        links.add(u.pathname);
        // In-page anchors must exist.
        if (u.hash && u.pathname === new URL(page.url()).pathname) {
          await expect(page.locator(`[id="${decodeURIComponent(u.hash.slice(1))}"]`).first(), `${p} → ${u.hash}`).toBeAttached();
        }
      }
    }
    for (const path of links) {
      const res = await page.request.get(path);
      expect(res.status(), path).toBe(200);
    }
    expectClean(log);
  });
});

test('glossary: terms with definitions, linked from the nav, axe clean', async ({ page, log }) => {
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Glossary' }).click();
  await expect(page).toHaveURL(/\/glossary\/$/);
  expect(await page.locator('.glossary dt').count()).toBeGreaterThanOrEqual(20);
  await expect(page.locator('dt#kv-cache')).toBeVisible();
  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});

test('kv-vector: keyboard changes bits and group, URL follows, error equals src/lib/quant on the same vector', async ({ page, log }) => {
  await page.goto(url('quantization-basics'));
  const w = page.locator('kv-vector#vec1');
  await expect(w).toHaveAttribute('data-relative-error', /\d/);
  const ex = firstExample();
  const vec = ex.keys[4].data.slice(0, 64); // layer 4, head 0, token 0
  const expected = (bits: 1 | 2 | 3 | 4 | 8, group: number) =>
    relativeError(
      vec,
      fakeQuantize({ data: vec, heads: 1, tokens: 1, headDim: 64 }, { bits, groupSize: group, axis: 'token', method: 'minmax' })
        .dequantized,
    );
  expect(Number(await w.getAttribute('data-relative-error'))).toBeCloseTo(expected(2, 32), 6);
  const pathsBefore = await w.locator('svg line, svg path').count();
  const bits = w.getByRole('slider', { name: 'Bits' });
  await bits.focus();
  await page.keyboard.press('ArrowRight');
  await expect(bits).toHaveAttribute('aria-valuetext', '3 bits, groups of 32 elements');
  await expect(page).toHaveURL(/vec1\.bits=3/);
  expect(Number(await w.getAttribute('data-relative-error'))).toBeCloseTo(expected(3, 32), 6);
  expect(await w.locator('svg line, svg path').count()).not.toBe(pathsBefore);
  const group = w.getByRole('slider', { name: 'Group size' });
  await group.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page).toHaveURL(/vec1\.group=16/);
  expect(Number(await w.getAttribute('data-relative-error'))).toBeCloseTo(expected(3, 16), 6);
  await expect(w.locator('[data-metric="relerr"] .value')).toHaveText(`${(expected(3, 16) * 100).toFixed(1)} %`);
  expectClean(log);
});

test('kv-vector: invalid URL values show a note and a working widget', async ({ page, log }) => {
  await page.goto(`${url('quantization-basics')}?vec1.bits=7&vec1.group=128&vec1.method=%3Cb%3E`);
  const w = page.locator('kv-vector#vec1');
  await expect(w.locator('.param-notes li')).toHaveCount(3);
  await expect(w.locator('.param-notes')).toContainText('<b>');
  await expect(w.locator('svg').first()).toBeAttached();
  await expect(w.getByRole('slider', { name: 'Bits' })).toHaveAttribute('aria-valuetext', /2 bits/);
  expectClean(log);
});

test('kv-rotation: errors equal src/lib/quant (plain and Hadamard-rotated) and follow the keyboard', async ({ page, log }) => {
  await page.goto(url('beyond-the-post'));
  const w = page.locator('kv-rotation#rot1');
  await expect(w).toHaveAttribute('data-error-plain', /\d/);
  const keys = headOf(firstExample().keys[4], 0);
  const expected = (bits: 1 | 2 | 3 | 4 | 8, axis: 'token' | 'channel') => {
    const cfg = { bits, groupSize: 64, axis, method: 'minmax' as const };
    const plain = relativeError(keys.data, fakeQuantize(keys, cfg).dequantized);
    const rot = hadamardRotate(keys);
    const back = hadamardRotate({ ...rot, data: fakeQuantize(rot, cfg).dequantized });
    return { plain, rotated: relativeError(keys.data, back.data) };
  };
  let e = expected(2, 'token');
  expect(Number(await w.getAttribute('data-error-plain'))).toBeCloseTo(e.plain, 6);
  expect(Number(await w.getAttribute('data-error-rotated'))).toBeCloseTo(e.rotated, 5);
  const bits = w.getByRole('slider', { name: 'Bits' });
  await bits.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page).toHaveURL(/rot1\.bits=4/);
  e = expected(4, 'token');
  expect(Number(await w.getAttribute('data-error-plain'))).toBeCloseTo(e.plain, 6);
  expect(Number(await w.getAttribute('data-error-rotated'))).toBeCloseTo(e.rotated, 5);
  await w.getByRole('combobox', { name: 'Key grouping' }).selectOption('channel');
  await expect(page).toHaveURL(/rot1\.kaxis=channel/);
  e = expected(4, 'channel');
  expect(Number(await w.getAttribute('data-error-plain'))).toBeCloseTo(e.plain, 6);
  expectClean(log);
});

for (const width of [360, 1280]) {
  test(`kv-rotation at ${width} px: both panel names whole and inside the chart`, async ({ page, log }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(url('beyond-the-post'));
    const w = page.locator('kv-rotation#rot1');
    await expect(w).toHaveAttribute('data-error-plain', /\d/);
    const svg = w.locator('.plot svg[aria-label^="Bar charts"]');
    const boxes = await svg.evaluate((s) => {
      const r = s.getBoundingClientRect();
      return [...s.querySelectorAll('text')]
        .filter((t) => /rotation/.test(t.textContent ?? ''))
        .map((t) => {
          const b = t.getBoundingClientRect();
          return {
            text: t.textContent,
            inside: b.left >= r.left - 0.5 && b.right <= r.right + 0.5 && b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5,
          };
        });
    });
    // the old right-hand facet axis cut "after rotation" to "after r" at the SVG's edge
    expect(boxes.map((b) => b.text).sort()).toEqual(['after rotation', 'before rotation']);
    expect(boxes.every((b) => b.inside)).toBe(true);
    expectClean(log);
  });
}

test('kv-config: quanto rejects 3 bits with an explanation; HQQ at 3 bits per token fails at the first decode step; at 4 bits HQQ swaps the axis numbers', async ({
  page,
  log,
}) => {
  await page.goto(url('using-it-in-transformers'));
  const w = page.locator('kv-config#cfg1');
  await expect(w).toHaveAttribute('data-valid', 'true');
  await expect(w).toHaveAttribute('data-verdict', 'runs');
  await expect(w.getByRole('note').filter({ hasText: 'Runs in Transformers' })).toBeVisible();
  const code = w.locator('pre.config-snippet');
  await expect(code).toContainText('"backend": "quanto"');
  await expect(code).toContainText('"axis_key": 0');
  await expect(code).toContainText('dtype=torch.float16');
  const bits = w.getByRole('slider', { name: 'nbits' });
  await bits.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page).toHaveURL(/cfg1\.bits=3/);
  await expect(w).toHaveAttribute('data-valid', 'false');
  await expect(w.locator('.issue-error')).toContainText('2 or 4');
  await expect(w.getByRole('note').filter({ hasText: 'Fails in Transformers' })).toContainText(
    '`nbits` for `quanto` backend has to be one of',
  );
  await w.getByRole('combobox', { name: 'Backend' }).focus();
  await w.getByRole('combobox', { name: 'Backend' }).selectOption('hqq');
  await expect(page).toHaveURL(/cfg1\.backend=hqq/);
  await expect(w).toHaveAttribute('data-verdict', 'fails');
  await expect(w.getByRole('note').filter({ hasText: 'Fails in Transformers' })).toContainText('decode step 1');
  await expect(code).toContainText('"nbits": 3');
  await expect(code).toContainText('"axis_key": 1');
  await bits.focus();
  await page.keyboard.press('ArrowRight');
  // 4 bits is the default, so the URL drops the parameter.
  await expect(page).not.toHaveURL(/cfg1\.bits=/);
  await expect(w).toHaveAttribute('data-valid', 'true');
  await expect(code).toContainText('"axis_value": 1');
  expectClean(log);
});
