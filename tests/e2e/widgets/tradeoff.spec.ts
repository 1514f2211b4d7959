import { readFileSync } from 'node:fs';
import { test, expect, expectClean, axeViolations } from '../support';
import { decodePrecomputed, type PrecomputedManifest } from '../../../src/lib/model/precomputed';
import {
  fakeQuantize,
  hadamardRotate,
  kvCacheBytes,
  quantizeFormat,
  relativeError,
  type Axis,
  type Bits,
  type EngineFormat,
  type Method,
} from '../../../src/lib/quant/index';

/** Expected numbers for one configuration, computed in Node from the same precomputed files with src/lib/quant. */
function expected(id: string, tensor: 'k' | 'v', bits: Bits, group: number, axis: Axis, method: Method) {
  const manifest = JSON.parse(readFileSync(`public/precomputed/${id}.json`, 'utf8')) as PrecomputedManifest;
  const bin = readFileSync(`public/precomputed/${manifest.bin}`);
  const r = decodePrecomputed(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const ts = tensor === 'k' ? r.keys : r.values;
  const n = ts[0].data.length;
  const ref = new Float32Array(n * ts.length);
  const hat = new Float32Array(n * ts.length);
  ts.forEach((t, l) => {
    ref.set(t.data, l * n);
    hat.set(fakeQuantize(t, { bits, groupSize: group, axis, method }).dequantized, l * n);
  });
  const bpe = kvCacheBytes({
    layers: ts.length,
    kvHeads: ts[0].heads,
    headDim: ts[0].headDim,
    tokens: ts[0].tokens,
    bits,
    groupSize: group,
    axis,
  }).bitsPerElement;
  return { err: relativeError(ref, hat), bpe, tokens: ts[0].tokens };
}

const widget = (page: import('@playwright/test').Page) => page.locator('kv-tradeoff');

test('sweep of the 512-token example: points, timings, current configuration equal src/lib/quant', async ({ page, log }) => {
  test.setTimeout(180_000);
  await page.goto('/embed/tradeoff/');
  await page.getByRole('combobox', { name: 'Example', exact: true }).selectOption('heldout-512');
  await expect(widget(page)).toHaveAttribute('data-sweep-done', 'true', { timeout: 150_000 });
  const fast = Number(await widget(page).getAttribute('data-sweep-fast-ms'));
  const hqq = Number(await widget(page).getAttribute('data-sweep-hqq-ms'));
  console.log(
    `tradeoff sweep, kvlab-16m, 512 tokens, 8 layers, K and V: min-max + absmax ${fast} ms (144 configs), HQQ ${hqq} ms (80 configs)`,
  );
  await expect(widget(page)).toHaveAttribute('data-points', '152'); // per tensor: 5·4·3 min-max + 4·4·2 absmax + 5·4·3 HQQ (sweep.ts)
  const e = expected('heldout-512', 'k', 4, 64, 'token', 'minmax');
  expect(Number(await widget(page).getAttribute('data-current-bpe'))).toBeCloseTo(e.bpe, 10);
  expect(Number(await widget(page).getAttribute('data-current-err'))).toBeCloseTo(e.err, 6);
  await expect(widget(page).locator('.chart-summary')).toContainText(
    `Current configuration: 4 bits, G64, per-token, minmax, 4.5 bits per element, error ${(e.err * 100).toFixed(1)} %`,
  );
  await expect(widget(page).locator('.chart-summary')).toContainText(/^Cheapest configuration under 5 % key error: /);
  // No exported queries in this example: the attention option is disabled.
  await expect(page.locator('kv-tradeoff option[value="attention"]')).toBeDisabled();
  // Table: all points sorted by memory, with a Pareto column.
  await widget(page).locator('summary', { hasText: 'Show as table' }).click();
  const rows = widget(page).locator('table tbody tr');
  // 152 Transformers configurations and 16 serving-engine formats of the keys (sweep.ts formatConfigs)
  await expect(rows).toHaveCount(152 + 16);
  expect(await widget(page).locator('table tbody tr td:last-child', { hasText: 'yes' }).count()).toBeGreaterThan(2);
  expectClean(log);
});

test('keyboard: configuration controls move the marker and the URL; arrow keys walk the points', async ({ page, log }) => {
  test.setTimeout(180_000);
  await page.goto('/embed/tradeoff/');
  await page.getByRole('combobox', { name: 'Example', exact: true }).selectOption('heldout-512');
  await expect(widget(page)).toHaveAttribute('data-points', /\d+/, { timeout: 60_000 });
  await expect(widget(page)).toHaveAttribute('data-current-err', /\d/, { timeout: 60_000 });
  const bits = page.getByRole('slider', { name: 'Bits' });
  await bits.focus();
  await page.keyboard.press('ArrowLeft'); // 4 → 3
  await page.keyboard.press('ArrowLeft'); // 3 → 2
  await expect(page).toHaveURL(/[?&]bits=2(&|$)/);
  await page.getByLabel('Key grouping').selectOption('channel');
  await expect(page).toHaveURL(/[?&]kaxis=channel(&|$)/);
  const e = expected('heldout-512', 'k', 2, 64, 'channel', 'minmax');
  await expect.poll(async () => Number(await widget(page).getAttribute('data-current-err'))).toBeCloseTo(e.err, 6);
  expect(Number(await widget(page).getAttribute('data-current-bpe'))).toBeCloseTo(e.bpe, 10);
  await page.getByLabel('Tensor', { exact: true }).selectOption('v');
  await expect(page).toHaveURL(/[?&]tensor=v(&|$)/);
  const ev = expected('heldout-512', 'v', 2, 64, 'token', 'minmax');
  await expect.poll(async () => Number(await widget(page).getAttribute('data-current-err'))).toBeCloseTo(ev.err, 6);
  // Focus the chart and walk the points with the keyboard.
  await widget(page).locator('.tradeoff-chart').focus();
  await page.keyboard.press('Home');
  await expect(widget(page).locator('.point-readout')).toContainText(/^Point 1 of \d+: 1 bit, G128/);
  await page.keyboard.press('ArrowRight');
  await expect(widget(page).locator('.point-readout')).toContainText(/^Point 2 of/);
  expectClean(log);
});

test('attention-output error with exported queries (narrative example)', async ({ page, log }) => {
  test.setTimeout(180_000);
  await page.goto('/embed/tradeoff/?metric=attention&bits=8');
  await expect(widget(page)).toHaveAttribute('data-points', /\d+/, { timeout: 60_000 });
  await expect(page.locator('kv-tradeoff option[value="attention"]')).toBeEnabled();
  await expect(widget(page).locator('.chart-summary')).toContainText('attention-output error from quantized keys');
  await expect(widget(page).locator('.param-notes')).toBeHidden();
  expectClean(log);
});

test('invalid parameters: notes and a working widget', async ({ page, log }) => {
  await page.goto('/embed/tradeoff/?bits=5&method=gptq&tensor=q&metric=ppl&group=7');
  const notes = widget(page).locator('.param-notes');
  for (const n of ['bits="5"', 'method="gptq"', 'tensor="q"', 'metric="ppl"', 'group="7"'])
    await expect(notes).toContainText(`${n} is not valid`);
  await expect(widget(page)).toHaveAttribute('data-current-err', /\d/, { timeout: 60_000 });
  expectClean(log);
});

for (const theme of ['light', 'dark'] as const) {
  test(`axe clean in ${theme} theme`, async ({ page, log }) => {
    await page.goto(`/embed/tradeoff/?theme=${theme}`);
    await expect(widget(page)).toHaveAttribute('data-current-err', /\d/, { timeout: 60_000 });
    expect(await axeViolations(page)).toEqual([]);
    expectClean(log);
  });
}

/** A serving-engine format on every layer of one tensor, computed in Node with quantizeFormat (and the rotation by hand). */
function expectedFormat(id: string, tensor: 'k' | 'v', format: EngineFormat, hadamard: boolean) {
  const manifest = JSON.parse(readFileSync(`public/precomputed/${id}.json`, 'utf8')) as PrecomputedManifest;
  const bin = readFileSync(`public/precomputed/${manifest.bin}`);
  const r = decodePrecomputed(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const ts = tensor === 'k' ? r.keys : r.values;
  const ref: number[] = [];
  const hat: number[] = [];
  for (const t of ts) {
    ref.push(...t.data);
    if (!hadamard) hat.push(...quantizeFormat(t, format).dequantized);
    else hat.push(...hadamardRotate({ ...t, data: quantizeFormat(hadamardRotate(t), format).dequantized }).data);
  }
  return relativeError(ref, hat);
}

test('engine formats on the chart: legend, labels, summary and table rows equal quantizeFormat', async ({ page, log }) => {
  test.setTimeout(180_000);
  await page.goto('/embed/tradeoff/');
  const w = widget(page);
  await expect(w).toHaveAttribute('data-formats', '32', { timeout: 150_000 });
  const id = await page.getByRole('combobox', { name: 'Example', exact: true }).inputValue();
  // legend entries of the format families, each with its own shape and colour (view.ts METHOD_SYMBOL/METHOD_COLOR)
  for (const label of ['FP8 (vLLM/SGLang)', 'NVFP4 (vLLM)', 'llama.cpp', 'llama.cpp + Hadamard'])
    await expect(w.locator('.tradeoff-chart')).toContainText(label);
  const summary = w.locator('.chart-summary');
  await expect(summary).toContainText('KIVI-2');
  for (const [format, hadamard, label] of [
    ['q4_0', false, 'Q4_0'],
    ['q4_0', true, 'Q4_0 + Hadamard'],
    ['nvfp4', false, 'NVFP4'],
    ['q8_0', false, 'Q8_0'],
  ] as const) {
    const err = expectedFormat(id, 'k', format, hadamard);
    const bpe = format === 'q8_0' ? 8.5 : 4.5;
    await expect(summary).toContainText(`${label} ${bpe} bits, ${(err * 100).toFixed(err < 0.01 ? 2 : 1)} %`);
  }
  await w.locator('summary', { hasText: 'Show as table' }).click();
  const row = w.locator('table tbody tr', { hasText: 'llama.cpp: Q4_0' }).filter({ hasNotText: 'Hadamard' });
  await expect(row).toHaveCount(1);
  const err = expectedFormat(id, 'k', 'q4_0', false);
  await expect(row).toContainText(`${(err * 100).toFixed(1)} %`);
  await expect(row).toContainText('4.5');
  expectClean(log);
});

/** Texts of a chart's SVG whose box leaves the SVG's (clipped by the page or the frame), with their text. */
async function textsOutside(svg: import('@playwright/test').Locator): Promise<string[]> {
  return svg.evaluate((s) => {
    const r = s.getBoundingClientRect();
    return [...s.querySelectorAll('text')]
      .filter((t) => {
        const b = t.getBoundingClientRect();
        return b.width > 0 && (b.left < r.left - 0.5 || b.right > r.right + 0.5 || b.top < r.top - 0.5 || b.bottom > r.bottom + 0.5);
      })
      .map((t) => t.textContent ?? '');
  });
}

for (const width of [360, 1280]) {
  test(`chart at ${width} px: a colour per method in dots and legend, gridlines to the last tick, no text cut`, async ({ page, log }) => {
    test.setTimeout(180_000);
    await page.setViewportSize({ width, height: 900 });
    // strided (HQQ axis 0) + hqq: the longest "current" label of the defaults' neighbourhood
    await page.goto('/embed/tradeoff/?kaxis=strided&method=hqq');
    const w = widget(page);
    await expect(w).toHaveAttribute('data-sweep-done', 'true', { timeout: 150_000 });
    await expect(w).toHaveAttribute('data-formats', /\d+/, { timeout: 60_000 });
    await expect(w).toHaveAttribute('data-current-err', /\d/);
    const chart = w.locator('.tradeoff-chart');
    // Legend: one swatch per method, each drawn in a colour of its own (not the text colour) …
    // Colours are compared as computed: the palette gives Plot `var(--kv-c-method-*)` (src/widgets/shared/palette.ts),
    // which the browser resolves to the theme's colour.
    const swatches = await chart.locator('[class*="swatch"] svg').evaluateAll((svgs) =>
      svgs.map((s) => ({
        label: s.parentElement!.textContent!.trim(),
        stroke: getComputedStyle(s).stroke,
        text: getComputedStyle(s.parentElement!).color,
        d: s.querySelector('path')!.getAttribute('d'),
      })),
    );
    const byLabel = new Map(swatches.map((s) => [s.label, s]));
    for (const label of ['HQQ', 'min-max']) {
      expect(byLabel.get(label)?.stroke).toMatch(/^rgb\(\d+, \d+, \d+\)$/);
      expect(byLabel.get(label)?.stroke).not.toBe(byLabel.get(label)?.text);
    }
    expect(new Set(swatches.map((s) => s.stroke)).size).toBe(swatches.length);
    // … and the chart's dots of that shape carry the swatch's colour (so the legend reads the chart). The
    // swatch is drawn larger than the dots: shapes compare by their path commands without the numbers.
    const commands = (d: string | null) => (d ?? '').replace(/[-\d.,e]+/g, '');
    const plot = chart.locator('svg[aria-label^="Scatter plot"]');
    const dots = await plot
      .locator('g[aria-label="dot"] path')
      .evaluateAll((ps) => ps.map((p) => ({ d: p.getAttribute('d'), stroke: getComputedStyle(p).stroke })));
    for (const label of ['HQQ', 'min-max', 'absmax']) {
      const s = byLabel.get(label)!;
      const strokes = new Set(dots.filter((p) => commands(p.d) === commands(s.d)).map((p) => p.stroke));
      expect([...strokes], label).toEqual([s.stroke]);
    }
    // Gridlines: the last vertical gridline is the last tick's, inside the plot (the old chart let tick 12 fall outside).
    const grid = await plot.evaluate((s) => {
      const xOf = (e: Element) => {
        const t = e.getAttribute('transform');
        return t ? Number(/translate\(([-\d.]+)/.exec(t)![1]) : Number(e.getAttribute('x1'));
      };
      return {
        width: Number(s.getAttribute('width')),
        lines: [...s.querySelectorAll('g[aria-label="x-grid"] line')].map(xOf),
        ticks: [...s.querySelectorAll('g[aria-label="x-axis tick label"] text')].map((t) => ({ text: t.textContent, x: xOf(t) })),
      };
    });
    expect(grid.ticks.map((t) => t.text)).toEqual(['1', '2', '3', '4', '6', '8', '12']);
    expect(Math.max(...grid.lines)).toBeCloseTo(grid.ticks[grid.ticks.length - 1].x, 6);
    for (const x of [...grid.lines, ...grid.ticks.map((t) => t.x)]) {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThan(grid.width);
    }
    // No tick, format label or the "current" label runs past the SVG's edges.
    await expect(plot.locator('text', { hasText: 'current:' })).not.toHaveCount(0);
    expect(await textsOutside(plot)).toEqual([]);
    expectClean(log);
  });
}

/** WCAG 2.2 contrast ratio of two computed `rgb(r, g, b)` colours (definitions "relative luminance", "contrast ratio"). */
function contrastRatio(a: string, b: string): number {
  const lum = (c: string) => {
    const m = /^rgb\((\d+), (\d+), (\d+)\)$/.exec(c);
    if (!m) throw new Error(`not an opaque rgb() colour: ${c}`);
    const [r, g, bl] = [m[1], m[2], m[3]].map((v) => {
      const s = Number(v) / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

for (const theme of ['dark', 'light'] as const) {
  test(`${theme} theme: every method's dots reach 3:1 against the widget background (WCAG SC 1.4.11)`, async ({ page, log }) => {
    test.setTimeout(180_000);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`/embed/tradeoff/?theme=${theme}`);
    const w = widget(page);
    await expect(w).toHaveAttribute('data-sweep-done', 'true', { timeout: 150_000 });
    await expect(w).toHaveAttribute('data-formats', /\d+/, { timeout: 60_000 });
    const plot = w.locator('.tradeoff-chart svg[aria-label^="Scatter plot"]');
    const seen = await plot.evaluate((svg) => {
      let bg = 'rgba(0, 0, 0, 0)';
      for (let e: Element | null = svg; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (!/^rgba\(.*,\s*0\)$|^transparent$/.test(c)) {
          bg = c;
          break;
        }
      }
      const paints = [...svg.querySelectorAll('g[aria-label="dot"] path')].map((p) => {
        const cs = getComputedStyle(p);
        return cs.fill !== 'none' ? cs.fill : cs.stroke;
      });
      return { bg, widgetBg: getComputedStyle(svg.closest('.kv-widget')!).backgroundColor, paints: [...new Set(paints)] };
    });
    // The chart is transparent over the widget, whose background is the theme's (#1c1f26 dark, #f4f5f7 light in widget.css).
    expect(seen.bg).toBe(seen.widgetBg);
    expect(seen.bg).toBe(theme === 'dark' ? 'rgb(28, 31, 38)' : 'rgb(244, 245, 247)');
    // Every legend swatch's colour is on the chart (so no family is left out of the check), one per family …
    const swatches = await w
      .locator('.tradeoff-chart [class*="swatch"] svg')
      .evaluateAll((svgs) => svgs.map((s) => getComputedStyle(s).stroke));
    expect(swatches.length).toBeGreaterThanOrEqual(7);
    expect(new Set(swatches).size).toBe(swatches.length);
    for (const c of swatches) expect(seen.paints).toContain(c);
    // … and every dot colour (those and the ringed current point's text colour) reaches 3:1.
    const low = seen.paints.map((c) => ({ c, ratio: contrastRatio(c, seen.bg) })).filter((x) => x.ratio < 3);
    expect(low).toEqual([]);
    expectClean(log);
  });
}
