import { readFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { test, expect, expectClean, axeViolations } from '../support';
import { decodePrecomputed, type PrecomputedIndex, type PrecomputedManifest } from '../../../src/lib/model/precomputed';
import { DEFAULT_MODEL_ID } from '../../../src/lib/model/catalogue';
import { metaDtypeOfModel } from '../../../src/widgets/shared/quant-config';
import {
  fakeQuantize,
  hadamardRotate,
  kvCacheBytes,
  maxAbsError,
  meanTokenCosine,
  quantizeFormat,
  relativeError,
  snrDb,
  type EngineFormat,
  type FormatScale,
  type KVTensor,
  type QuantConfig,
} from '../../../src/lib/quant/index';

function firstExample() {
  const dir = 'public/precomputed';
  const index = JSON.parse(readFileSync(`${dir}/index.json`, 'utf8')) as PrecomputedIndex;
  const manifest = JSON.parse(readFileSync(`${dir}/${index.items[0].manifest}`, 'utf8')) as PrecomputedManifest;
  const bin = readFileSync(`${dir}/${manifest.bin}`);
  return decodePrecomputed(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
}

/** The widget keeps scales and zeros in the cache dtype (fp32 for the bundled model: shared/quant-config.ts). */
const META = metaDtypeOfModel(DEFAULT_MODEL_ID);

/** Expected metrics computed in Node directly with src/lib/quant. */
function expected(t: KVTensor, cfg: QuantConfig, head?: number) {
  const deq = fakeQuantize(t, { metaDtype: META, ...cfg }).dequantized;
  let x = t.data;
  let y = deq;
  let tt = t;
  if (head !== undefined) {
    const n = t.tokens * t.headDim;
    x = t.data.subarray(head * n, (head + 1) * n);
    y = deq.subarray(head * n, (head + 1) * n);
    tt = { data: x, heads: 1, tokens: t.tokens, headDim: t.headDim };
  }
  return { rel: relativeError(x, y), snr: snrDb(x, y), max: maxAbsError(x, y), cos: meanTokenCosine(tt, y) };
}

const cell = (w: Locator, id: string) => w.locator(`[data-metric="${id}"]`);
async function expectMetrics(w: Locator, row: string, e: ReturnType<typeof expected>) {
  for (const [k, v] of Object.entries(e)) {
    await expect(cell(w, `${row}-${k}`)).toHaveAttribute('data-value', /./);
    expect(Number(await cell(w, `${row}-${k}`).getAttribute('data-value')), `${row}-${k}`).toBeCloseTo(v, 9);
  }
}
const rendered = async (page: Page) => Number(await page.locator('kv-quantizer').getAttribute('data-rendered'));

test('keyboard on bits and group sliders: metrics equal src/lib/quant on the same tensors, URL follows', async ({ page, log }) => {
  const ex = firstExample();
  await page.goto('/embed/quantizer/');
  const w = page.locator('kv-quantizer');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  const cfg4: QuantConfig = { bits: 4, groupSize: 64, axis: 'token', method: 'minmax' };
  await expectMetrics(w, 'k-head', expected(ex.keys[4], cfg4, 0));
  await expectMetrics(w, 'v-layer', expected(ex.values[4], cfg4));

  const bits = w.getByRole('slider', { name: 'Bits' });
  await expect(bits).toHaveAttribute('aria-valuetext', '4 bits, groups of 64 elements');
  await bits.focus();
  const before = await rendered(page);
  await page.keyboard.press('ArrowLeft');
  await expect(page).toHaveURL(/[?&]bits=3(&|$)/);
  expect(await rendered(page)).toBeGreaterThan(before);
  const cfg3: QuantConfig = { ...cfg4, bits: 3 };
  await expectMetrics(w, 'k-head', expected(ex.keys[4], cfg3, 0));
  await expectMetrics(w, 'k-layer', expected(ex.keys[4], cfg3));
  await expectMetrics(w, 'v-head', expected(ex.values[4], cfg3, 0));
  await expect(w.locator('.chart-summary').nth(1)).toContainText(`${(expected(ex.keys[4], cfg3, 0).rel * 100).toFixed(1)} %`);

  // Whole cache (worker): all layers, keys and values, concatenated.
  await expect(w).toHaveAttribute('data-whole', 'done');
  const xs: number[] = [];
  const ys: number[] = [];
  for (const t of [...ex.keys, ...ex.values]) {
    xs.push(...t.data);
    ys.push(...fakeQuantize(t, { ...cfg3, metaDtype: META }).dequantized);
  }
  expect(Number(await cell(w, 'cache-rel').getAttribute('data-value'))).toBeCloseTo(relativeError(xs, ys), 9);
  expect(Number(await cell(w, 'cache-snr').getAttribute('data-value'))).toBeCloseTo(snrDb(xs, ys), 9);

  const group = w.getByRole('slider', { name: 'Group size' });
  await group.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(page).toHaveURL(/[?&]group=32(&|$)/);
  await expect(group).toHaveAttribute('aria-valuetext', '3 bits, groups of 32 elements');
  await expectMetrics(w, 'k-head', expected(ex.keys[4], { ...cfg3, groupSize: 32 }, 0));

  // Memory bar = kvCacheBytes for this prompt length.
  const tokens = ex.tokens.length;
  const mem = kvCacheBytes({
    layers: 8,
    kvHeads: 2,
    headDim: 64,
    tokens,
    bits: 3,
    groupSize: 32,
    residualTokens: 128,
    kvBytes: 2,
    metaBytes: 2,
  });
  await expect(w.locator('.mem-bar')).toHaveAttribute('data-total', String(mem.total));
  expectClean(log);
});

test('presets and per-tensor axes: KIVI-2, then fp16 shows zero error', async ({ page, log }) => {
  const ex = firstExample();
  await page.goto('/embed/quantizer/');
  const w = page.locator('kv-quantizer');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  const preset = w.getByRole('combobox', { name: 'Preset' });
  await preset.selectOption('kivi2');
  await expect(page).toHaveURL(/bits=2/);
  await expect(page).toHaveURL(/group=32/);
  await expect(page).toHaveURL(/kaxis=channel/);
  await expectMetrics(w, 'k-layer', expected(ex.keys[4], { bits: 2, groupSize: 32, axis: 'channel', method: 'minmax' }));
  await expectMetrics(w, 'v-layer', expected(ex.values[4], { bits: 2, groupSize: 32, axis: 'token', method: 'minmax' }));
  // Value grouping by keyboard.
  const vaxis = w.getByRole('combobox', { name: 'Value grouping' });
  await vaxis.focus();
  await page.keyboard.press('ArrowDown');
  await expect(page).toHaveURL(/vaxis=channel/);
  await expect(preset).toHaveValue('custom');
  // Heatmaps show values.
  await w.getByRole('combobox', { name: 'Heatmaps show' }).selectOption('v');
  await expect(page).toHaveURL(/tensor=v/);
  await expect(w.locator('figcaption').first()).toHaveText('Original values');

  await preset.selectOption('fp16');
  await expect(page).toHaveURL(/bits=16/);
  for (const row of ['k-head', 'k-layer', 'v-head', 'v-layer']) {
    await expect(cell(w, `${row}-rel`)).toHaveAttribute('data-value', '0');
    await expect(cell(w, `${row}-max`)).toHaveAttribute('data-value', '0');
  }
  await expect(cell(w, 'k-head-snr')).toHaveText('∞ (exact)');
  await expect(w).toHaveAttribute('data-whole', 'done');
  await expect(cell(w, 'cache-rel')).toHaveAttribute('data-value', '0');
  expectClean(log);
});

test('HQQ: settings the worker prepared ahead and revisited settings show exactly what src/lib/quant computes', async ({ page, log }) => {
  const ex = firstExample();
  await page.goto('/embed/quantizer/?method=hqq&bits=3&layer=2');
  const w = page.locator('kv-quantizer');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  const cfg = (bits: 2 | 3 | 4): QuantConfig => ({ bits, groupSize: 64, axis: 'token', method: 'hqq' });
  await expectMetrics(w, 'k-head', expected(ex.keys[2], cfg(3), 0));
  // Let the worker quantize the neighbours (bits 2 and 4, ...) and the whole cache.
  await expect(w).toHaveAttribute('data-whole', 'done');
  // the worker runs prefetches before the whole cache: the current K and V plus the neighbours are held now
  expect(await w.evaluate((el) => (el as HTMLElement & { resultCacheEntries: number }).resultCacheEntries)).toBeGreaterThanOrEqual(12);
  const bits = w.getByRole('slider', { name: 'Bits' });
  await bits.focus();
  for (const [key, b] of [
    ['ArrowRight', 4],
    ['ArrowLeft', 3],
    ['ArrowLeft', 2],
    ['ArrowRight', 3],
  ] as const) {
    const before = await rendered(page);
    await page.keyboard.press(key);
    await expect.poll(() => rendered(page)).toBeGreaterThan(before);
    await expectMetrics(w, 'k-head', expected(ex.keys[2], cfg(b), 0));
    await expectMetrics(w, 'v-layer', expected(ex.values[2], cfg(b)));
  }
  // the layer next door was prefetched too
  const layer = w.getByRole('slider', { name: 'Layer' });
  await layer.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page).toHaveURL(/[?&]layer=3(&|$)/);
  await expectMetrics(w, 'k-layer', expected(ex.keys[3], cfg(3)));
  expectClean(log);
});

test('the error histogram follows the widget width (no layout read in the redraw)', async ({ page, log }) => {
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.goto('/embed/quantizer/');
  const w = page.locator('kv-quantizer');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  const hist = w.locator('svg[aria-label^="Histogram"]');
  const wide = Number(await hist.getAttribute('width'));
  expect(wide).toBeGreaterThan(400);
  await page.setViewportSize({ width: 420, height: 900 });
  await expect.poll(async () => Number(await hist.getAttribute('width'))).toBeLessThan(wide);
  expectClean(log);
});

test('attributes configure the element; impossible combination → engine message and a safe fallback', async ({ page, log }) => {
  await page.goto('/embed/quantizer/?method=absmax&bits=1');
  const w = page.locator('kv-quantizer');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  await expect(w.locator('.param-notes')).toContainText('bits');
  await expect(w.locator('.param-notes')).toContainText('Showing 4-bit minmax');
  await expect(cell(w, 'k-head-rel')).toHaveAttribute('data-value', /^0\.\d+/);
  // Leave only after every fetch has finished (an aborted fetch would count as a failed request).
  await expect(w).toHaveAttribute('data-whole', 'done');
  await expect(w.locator('.ctl-prompt')).toHaveAttribute('data-loaded', 'all');

  await page.goto('/embed/quantizer/?bits=5&group=48&kaxis=rows&method=gptq&residual=-4');
  const notes = w.locator('.param-notes');
  for (const p of ['bits="5"', 'group="48"', 'kaxis="rows"', 'method="gptq"', 'residual="-4"']) await expect(notes).toContainText(p);
  await expect(cell(w, 'k-head-rel')).toHaveAttribute('data-value', /./);
  await expect(w.locator('.ctl-prompt')).toHaveAttribute('data-loaded', 'all');

  // <kv-quantizer bits="2" group="32"> works outside an embed page too.
  await page.evaluate(() => {
    const el = document.createElement('kv-quantizer');
    el.id = 'attr-test';
    el.setAttribute('bits', '2');
    el.setAttribute('group', '32');
    document.body.append(el);
  });
  const a = page.locator('#attr-test');
  await expect(a).toHaveAttribute('data-rendered', /\d+/);
  await expect(a.getByRole('slider', { name: 'Bits' })).toHaveAttribute('aria-valuetext', '2 bits, groups of 32 elements');
  expectClean(log);
});

for (const theme of ['light', 'dark'] as const) {
  test(`axe clean in ${theme}`, async ({ page, log }) => {
    await page.emulateMedia({ colorScheme: theme });
    await page.goto(`/embed/quantizer/?theme=${theme}`);
    const w = page.locator('kv-quantizer');
    await expect(w).toHaveAttribute('data-whole', 'done');
    for (const d of await w.locator('details.data-table').all()) await d.locator('summary').click();
    expect(await axeViolations(page)).toEqual([]);
    expectClean(log);
  });
}

/** Metrics of an engine format, computed in Node with quantizeFormat (llama.cpp's rotation: H/√d before and after). */
function expectedFormat(t: KVTensor, format: EngineFormat, o: { scale?: FormatScale; hadamard?: boolean } = {}, head?: number) {
  const opts = o.scale ? { scale: o.scale } : {};
  const deq = o.hadamard
    ? hadamardRotate({ ...t, data: quantizeFormat(hadamardRotate(t), format, opts).dequantized }).data
    : quantizeFormat(t, format, opts).dequantized;
  let x = t.data;
  let y = deq;
  let tt = t;
  if (head !== undefined) {
    const n = t.tokens * t.headDim;
    x = t.data.subarray(head * n, (head + 1) * n);
    y = deq.subarray(head * n, (head + 1) * n);
    tt = { data: x, heads: 1, tokens: t.tokens, headDim: t.headDim };
  }
  return { rel: relativeError(x, y), snr: snrDb(x, y), max: maxAbsError(x, y), cos: meanTokenCosine(tt, y) };
}

test('engine choice by keyboard: vLLM FP8 scales and llama.cpp -ctk/-ctv with rotation equal quantizeFormat; memory per element; URL', async ({
  page,
  log,
}) => {
  const ex = firstExample();
  await page.goto('/embed/quantizer/');
  const w = page.locator('kv-quantizer');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  const engine = w.getByRole('combobox', { name: 'Engine' });
  // Transformers controls only, at first
  await expect(w.getByRole('combobox', { name: 'KV cache dtype' })).toBeHidden();
  await engine.focus();
  await page.keyboard.press('ArrowDown');
  await expect(page).toHaveURL(/[?&]engine=vllm(&|$)/);
  await expect(w.getByRole('slider', { name: 'Bits' })).toBeHidden();
  await expectMetrics(w, 'k-head', expectedFormat(ex.keys[4], 'fp8_e4m3', { scale: 'unit' }, 0));
  await expectMetrics(w, 'v-layer', expectedFormat(ex.values[4], 'fp8_e4m3', { scale: 'unit' }));
  await expect(w.locator('.format-summary')).toContainText('FP8 E4M3 with scale 1');
  // FP8 scale → dynamic (calc_kv_scales: K amax/200, V amax/100)
  const scale = w.getByRole('combobox', { name: 'FP8 scale' });
  await scale.focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
  await expect(page).toHaveURL(/[?&]fp8scale=dynamic(&|$)/);
  await expectMetrics(w, 'k-layer', expectedFormat(ex.keys[4], 'fp8_e4m3', { scale: 'dynamic-k' }));
  await expectMetrics(w, 'v-layer', expectedFormat(ex.values[4], 'fp8_e4m3', { scale: 'dynamic-v' }));
  // the whole cache in the worker: every layer's K and V in FP8 with their dynamic scales
  await expect(w).toHaveAttribute('data-whole', 'done');
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [ts, sc] of [
    [ex.keys, 'dynamic-k'],
    [ex.values, 'dynamic-v'],
  ] as const) {
    for (const t of ts) {
      xs.push(...t.data);
      ys.push(...quantizeFormat(t, 'fp8_e4m3', { scale: sc }).dequantized);
    }
  }
  expect(Number(await cell(w, 'cache-rel').getAttribute('data-value'))).toBeCloseTo(relativeError(xs, ys), 9);
  // FP8: 8 bits per element for every K and V element
  const per = 8 * 2 * 64 * ex.tokens.length;
  await expect(w.locator('.mem-bar')).toHaveAttribute('data-total', String(2 * per));

  // llama.cpp: defaults -ctk q8_0 -ctv q8_0 with the rotation
  await engine.focus();
  await page.keyboard.press('ArrowDown');
  await expect(page).toHaveURL(/[?&]engine=llamacpp(&|$)/);
  await expectMetrics(w, 'k-head', expectedFormat(ex.keys[4], 'q8_0', { hadamard: true }, 0));
  const kfmt = w.getByRole('combobox', { name: 'K cache type (-ctk)' });
  await kfmt.focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown'); // q8_0 → q5_1 → q5_0 → q4_1 → q4_0
  await expect(page).toHaveURL(/[?&]kfmt=q4_0(&|$)/);
  await expectMetrics(w, 'k-head', expectedFormat(ex.keys[4], 'q4_0', { hadamard: true }, 0));
  await expectMetrics(w, 'v-head', expectedFormat(ex.values[4], 'q8_0', { hadamard: true }, 0));
  await expect(w.locator('.tf-check')).toContainText('-ctk q4_0 -ctv q8_0 -fa on');
  await expect(w.locator('.format-summary')).toContainText('2 blocks of 32');
  // memory: q4_0 keys 18 bytes and q8_0 values 34 bytes per 32 elements
  await expect(w.locator('.mem-bar')).toHaveAttribute('data-total', String((per / 32) * 18 + (per / 32) * 34));
  const had = w.getByRole('combobox', { name: 'Hadamard rotation' });
  await had.focus();
  await page.keyboard.press('ArrowDown');
  await expect(page).toHaveURL(/[?&]hadamard=off(&|$)/);
  await expectMetrics(w, 'k-head', expectedFormat(ex.keys[4], 'q4_0', {}, 0));
  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});

test('engine parameters from the URL; invalid ones fall back with a note', async ({ page, log }) => {
  const ex = firstExample();
  await page.goto('/embed/quantizer/?engine=vllm&dtype=nvfp4&fp8scale=bogus');
  const w = page.locator('kv-quantizer');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  await expect(w).toContainText('fp8scale="bogus" is not valid');
  await expectMetrics(w, 'k-head', expectedFormat(ex.keys[4], 'nvfp4', {}, 0));
  await expect(w.getByRole('combobox', { name: 'FP8 scale' })).toBeHidden();
  await expect(w.locator('.format-summary')).toContainText('4 blocks of 16');
  expectClean(log);
});
