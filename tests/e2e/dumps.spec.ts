/**
 * KV-cache dumps (src/widgets/shared/dump-source.ts): the fixture `public/dumps/kvlab-16m-sample.kvlab.safetensors`
 * (kvlab-16m, 64 tokens, 8 layers, 6 query heads, 2 KV heads, head_dim 64, last 8 queries, fp16; written by
 * scripts/kv-dump/make_fixture.py) through the quantizer's file input, `?kv=` and /lab/open; broken files.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { test, expect, expectClean } from './support';

/**
 * axe as support.ts axeViolations, minus the quantizer's memory-bar label: with fewer tokens than the residual
 * length (64 < 128 here) the bar is all grey "residual" and its dark label fails colour contrast. That is the
 * quantizer's styling for short prompts (the 5-token example shows it too), not something a dump adds.
 */
async function axeViolations(page: Page) {
  const r = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .exclude('.mem-label')
    .analyze();
  return r.violations.map((v) => ({ id: v.id, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}

const FIXTURE = fileURLToPath(new URL('../../public/dumps/kvlab-16m-sample.kvlab.safetensors', import.meta.url));
const DUMP_URL = '/dumps/kvlab-16m-sample.kvlab.safetensors';
const fixture = () => readFileSync(FIXTURE);
/** The first precomputed example (what the quantizer shows before a dump). */
const firstExample = JSON.parse(readFileSync(new URL('../../public/precomputed/index.json', import.meta.url), 'utf8')).items[0] as {
  tokens: number;
};

test('quantizer: open the fixture through the file input, then broken files leave it drawn', async ({ page, log }) => {
  expect(firstExample.tokens).not.toBe(64); // else "keeps its tensors" would prove nothing
  await page.goto('/embed/quantizer/');
  const w = page.locator('kv-quantizer');
  await expect(w).toHaveAttribute('data-rendered', /\d+/);
  const original = w.locator('canvas.heatmap').first();
  await expect(original).toHaveAttribute('aria-label', new RegExp(`by ${firstExample.tokens} tokens`));

  const input = w.locator('input[type=file]');
  await input.setInputFiles(FIXTURE);
  const info = w.locator('[data-role=dump-info]');
  await expect(info).toContainText('Dump of kvlab-16m: 64 tokens, all 8 layers, 6 query heads, 2 KV heads, head_dim 64, float16');
  await expect(original).toHaveAttribute('aria-label', /64 channels by 64 tokens/);
  // sliders run over value indices: max = count − 1
  await expect(w.getByRole('slider', { name: 'KV head' })).toHaveAttribute('max', '1');
  await expect(w.getByRole('slider', { name: 'Layer' })).toHaveAttribute('max', '7');
  await expect(w.locator('select').first()).toHaveValue('dump');
  expect(await axeViolations(page)).toEqual([]);
  const rendered = await w.getAttribute('data-rendered');

  // Truncated: the reader names the problem and the widget keeps the dump it had.
  await input.setInputFiles({
    name: 'cut.kvlab.safetensors',
    mimeType: 'application/octet-stream',
    buffer: fixture().subarray(0, 200_000),
  });
  const status = w.locator('div.status').first();
  await expect(status).toContainText('The file is truncated');
  await expect(w.locator('[data-role=dump-error]')).toContainText('The file is truncated');
  await expect(status).toContainText('keeps the tensors it had');
  await expect(original).toHaveAttribute('aria-label', /by 64 tokens/);
  expect(await w.getAttribute('data-rendered')).toBe(rendered);

  // Not safetensors at all.
  await input.setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<!doctype html><title>x</title>') });
  await expect(status).toContainText('This is not a safetensors file');

  // An fp16 +Inf in layer 3's values (offset from the file's own header).
  const bad = Buffer.from(fixture());
  const n = bad.readUInt32LE(0);
  const header = JSON.parse(bad.subarray(8, 8 + n).toString('utf8'));
  const at = 8 + n + header['layers.3.values'].data_offsets[0] + 2 * 17;
  bad.writeUInt16LE(0x7c00, at);
  await input.setInputFiles({ name: 'inf.kvlab.safetensors', mimeType: 'application/octet-stream', buffer: bad });
  await expect(status).toContainText('A tensor holds NaN or Inf');
  await expect(status).toContainText('layers.3.values');

  // A tensor of the wrong shape (header edited, bytes unchanged).
  header['layers.1.keys'].shape = [2, 32, 128];
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeUInt32LE(json.length, 0);
  await input.setInputFiles({
    name: 'shape.kvlab.safetensors',
    mimeType: 'application/octet-stream',
    buffer: Buffer.concat([len, json, fixture().subarray(8 + n)]),
  });
  await expect(status).toContainText('A tensor has the wrong shape');
  await expect(original).toHaveAttribute('aria-label', /by 64 tokens/);
  expect(await w.getAttribute('data-rendered')).toBe(rendered);
  expectClean(log);
});

test('?kv=<url> opens the dump in the quantizer and the attention widget (last 8 queries only)', async ({ page, log }) => {
  await page.goto(`/embed/quantizer/?kv=${DUMP_URL}`);
  const q = page.locator('kv-quantizer');
  await expect(q.locator('[data-role=dump-info]')).toContainText('Dump of kvlab-16m: 64 tokens');
  await expect(q.locator('canvas.heatmap').first()).toHaveAttribute('aria-label', /by 64 tokens/);
  // Its whole-cache row comes from a worker: let it finish, or the next navigation aborts the worker's script.
  await expect(q).toHaveAttribute('data-whole', 'done');

  await page.goto(`/embed/attention/?kv=${DUMP_URL}`);
  const a = page.locator('kv-attention');
  await expect(a).toHaveAttribute('data-tokens', '64');
  const query = a.getByRole('slider', { name: 'Query token' });
  // only positions 56–63 have dumped queries: 8 slider steps, from token 56 to the last
  await expect(query).toHaveAttribute('max', '7');
  await expect(query).toHaveAttribute('aria-valuetext', /^token 63: .*\(last\)$/);
  await expect(a).toHaveAttribute('data-query', '63');
  await query.focus();
  await page.keyboard.press('Home');
  await expect(query).toHaveAttribute('aria-valuetext', /^token 56: /);
  await expect(a).toHaveAttribute('data-query', '56');
  expect(Number(await a.getAttribute('data-kl'))).toBeGreaterThanOrEqual(0);
  expectClean(log);
});

test('?kv= that cannot be fetched: a clear error, the example stays', async ({ page, log }) => {
  await page.goto('/embed/quantizer/?kv=/dumps/missing.kvlab.safetensors');
  const w = page.locator('kv-quantizer');
  await expect(w.locator('[data-role=dump-error]')).toContainText('could not be downloaded: HTTP 404');
  await expect(w.locator('canvas.heatmap').first()).toHaveAttribute('aria-label', new RegExp(`by ${firstExample.tokens} tokens`));
  // The 404 is the point of this test.
  log.failedRequests = [];
  log.consoleErrors = log.consoleErrors.filter((e) => !/404/.test(e));
  expectClean(log);
});

test('/lab/open?kv=: metadata, widgets on the dump, axe clean', async ({ page, log }) => {
  await page.goto(`/lab/open/?kv=${DUMP_URL}`);
  await expect(page.locator('body')).toHaveAttribute('data-dump', 'loaded');
  const meta = page.locator('#meta-list');
  for (const [k, v] of [
    ['Model', 'kvlab-16m'],
    ['Layers', '8'],
    ['Query heads', '6'],
    ['KV heads', '2 (grouped-query attention: 3 query heads share each)'],
    ['head_dim', '64'],
    ['Tokens', '64'],
    ['Queries', 'the last 8 positions (from token 56)'],
  ]) {
    await expect(meta.locator(`dt:text-is("${k}") + dd`)).toHaveText(v);
  }
  await expect(meta.locator('dt:text-is("dtype") + dd')).toContainText('float16');
  await expect(page.locator('#layer-table tbody tr')).toHaveCount(8);
  await expect(page.locator('#layer-table tbody tr').first()).toContainText('full');
  await expect(page.locator('kv-quantizer canvas.heatmap').first()).toHaveAttribute('aria-label', /by 64 tokens/);
  await expect(page.locator('kv-attention')).toHaveAttribute('data-tokens', '64');
  await expect(page.locator('#dump-links a')).toHaveCount(4);
  expect(await axeViolations(page)).toEqual([]);
  expectClean(log);
});

test('/lab/open: a truncated file names the problem; a good file through the input opens', async ({ page, log }) => {
  await page.goto('/lab/open/');
  const input = page.locator('#dump-file');
  await input.setInputFiles({ name: 'cut.kvlab.safetensors', mimeType: 'application/octet-stream', buffer: fixture().subarray(0, 100) });
  await expect(page.locator('#dump-status')).toContainText('The file is truncated');
  await input.setInputFiles(FIXTURE);
  await expect(page.locator('body')).toHaveAttribute('data-dump', 'loaded');
  await expect(page.locator('#meta-list dt:text-is("Tokens") + dd')).toHaveText('64');
  await expect(page.locator('#dump-links')).toContainText('opened from your disk');
  expectClean(log);
});

test('generation with ?kv=: says a dump has no model', async ({ page }) => {
  await page.goto(`/embed/generation/?kv=${DUMP_URL}`);
  await expect(page.locator('kv-generation [data-role=dump-note]')).toContainText('not the model that made them');
});
