/**
 * Chapter "How do serving engines quantize the KV cache?" (content/articles/serving-engines.mdx): every number the
 * chapter quotes from its quantizer is read from the widget here, and checked against quantizeFormat run in Node on
 * the same precomputed cache (layer 4, KV head 0 of the first example, the widget's defaults).
 */
import { readFileSync } from 'node:fs';
import type { Locator } from '@playwright/test';
import { test, expect, expectClean, axeViolations } from './support';
import { decodePrecomputed, type PrecomputedIndex, type PrecomputedManifest } from '../../src/lib/model/precomputed';
import {
  fakeQuantize,
  hadamardRotate,
  quantizeFormat,
  relativeError,
  type EngineFormat,
  type FormatScale,
  type KVTensor,
} from '../../src/lib/quant/index';

const CHAPTER = '/articles/serving-engines/';

function firstExample() {
  const dir = 'public/precomputed';
  const index = JSON.parse(readFileSync(`${dir}/index.json`, 'utf8')) as PrecomputedIndex;
  const manifest = JSON.parse(readFileSync(`${dir}/${index.items[0].manifest}`, 'utf8')) as PrecomputedManifest;
  const bin = readFileSync(`${dir}/${manifest.bin}`);
  return decodePrecomputed(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
}

const head0 = (t: KVTensor, deq: Float32Array) =>
  relativeError(t.data.subarray(0, t.tokens * t.headDim), deq.subarray(0, t.tokens * t.headDim));
function formatErr(t: KVTensor, format: EngineFormat, o: { scale?: FormatScale; hadamard?: boolean } = {}) {
  const opts = o.scale ? { scale: o.scale } : {};
  const deq = o.hadamard
    ? hadamardRotate({ ...t, data: quantizeFormat(hadamardRotate(t), format, opts).dequantized }).data
    : quantizeFormat(t, format, opts).dequantized;
  return head0(t, deq);
}

const cell = (w: Locator, id: string) => w.locator(`[data-metric="${id}"]`);
/** The widget's number and its text ("8.9 %"), which the chapter quotes. */
async function shows(w: Locator, id: string, expected: number, text: string) {
  await expect(cell(w, id)).toHaveText(text);
  expect(Number(await cell(w, id).getAttribute('data-value'))).toBeCloseTo(expected, 9);
}

test('the chapter quantizer: q4_0 keys 8.9 % rotated, 12.1 % without; values 8.6 % both ways; memory 3.56× and 1.56×', async ({
  page,
  log,
}) => {
  const ex = firstExample();
  const K = ex.keys[4];
  const V = ex.values[4];
  await page.goto(CHAPTER);
  const w = page.locator('kv-quantizer#engines');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  await expect(w.getByRole('combobox', { name: 'Engine' })).toHaveValue('llamacpp');
  await expect(w.getByRole('combobox', { name: 'K cache type (-ctk)' })).toHaveValue('q4_0');
  await expect(w.getByRole('combobox', { name: 'V cache type (-ctv)' })).toHaveValue('q4_0');
  await expect(w.getByRole('combobox', { name: 'Hadamard rotation' })).toHaveValue('on');
  await shows(w, 'k-head-rel', formatErr(K, 'q4_0', { hadamard: true }), '8.9 %');
  await shows(w, 'v-head-rel', formatErr(V, 'q4_0', { hadamard: true }), '8.6 %');
  await expect(w.locator('.mem-bar + .chart-summary')).toContainText('3.56× smaller');
  await w.getByRole('combobox', { name: 'Hadamard rotation' }).selectOption('off');
  await shows(w, 'k-head-rel', formatErr(K, 'q4_0'), '12.1 %');
  await shows(w, 'v-head-rel', formatErr(V, 'q4_0'), '8.6 %');
  await w.getByRole('combobox', { name: 'V cache type (-ctv)' }).selectOption('f16');
  await expect(w.locator('.mem-bar + .chart-summary')).toContainText('1.56× smaller');
  // q4_1 = min-max with per-token groups of 32 (the Transformers engine at 4 bits, G32, min-max)
  await w.getByRole('combobox', { name: 'K cache type (-ctk)' }).selectOption('q4_1');
  const q41 = Number(await cell(w, 'k-head-rel').getAttribute('data-value'));
  expect(q41).toBeCloseTo(formatErr(K, 'q4_1'), 9);
  const mm = head0(K, fakeQuantize(K, { bits: 4, groupSize: 32, axis: 'token', method: 'minmax' }).dequantized);
  expect(Math.abs(q41 - mm)).toBeLessThan(1e-4);
  expectClean(log);
});

test('the chapter quantizer on vLLM: FP8 E4M3 2.7 % at every scale, E5M2 5.3 %, NVFP4 9.0 %', async ({ page, log }) => {
  const K = firstExample().keys[4];
  await page.goto(CHAPTER);
  const w = page.locator('kv-quantizer#engines');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  await w.getByRole('combobox', { name: 'Engine' }).selectOption('vllm');
  await shows(w, 'k-head-rel', formatErr(K, 'fp8_e4m3', { scale: 'unit' }), '2.7 %');
  for (const [opt, scale] of [
    ['tensor', 'tensor'],
    ['head', 'head'],
    ['dynamic', 'dynamic-k'],
  ] as const) {
    await w.getByRole('combobox', { name: 'FP8 scale' }).selectOption(opt);
    await shows(w, 'k-head-rel', formatErr(K, 'fp8_e4m3', { scale }), '2.7 %');
  }
  await w.getByRole('combobox', { name: 'FP8 scale' }).selectOption('unit');
  await w.getByRole('combobox', { name: 'KV cache dtype' }).selectOption('fp8_e5m2');
  await shows(w, 'k-head-rel', formatErr(K, 'fp8_e5m2', { scale: 'unit' }), '5.3 %');
  await w.getByRole('combobox', { name: 'KV cache dtype' }).selectOption('nvfp4');
  await shows(w, 'k-head-rel', formatErr(K, 'nvfp4'), '9.0 %');
  await expect(w.locator('.format-summary')).toContainText('E2M1 grid of the block');
  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});

test('the chapter’s data claims: channel 53 of layer 4, head 0 reaches 11.4; half of the channels stay below 4', () => {
  const K = firstExample().keys[4];
  const D = K.headDim;
  const max = new Float64Array(D);
  for (let i = 0; i < K.tokens; i++) for (let d = 0; d < D; d++) max[d] = Math.max(max[d], Math.abs(K.data[i * D + d]));
  expect(max.indexOf(Math.max(...max))).toBe(53);
  expect(max[53]).toBeCloseTo(11.4, 1);
  expect([...max].filter((m) => m < 4).length).toBeGreaterThanOrEqual(D / 2);
});
