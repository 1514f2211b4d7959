import { readFileSync } from 'node:fs';
import { expect, expectClean, LOCAL_ORIGIN, test } from './support';

/** Written by `npx tsx scripts/precompute/export.ts` from the same model in Node. */
const expected = JSON.parse(readFileSync(new URL('../unit/lib/model/fixtures/model-check.json', import.meta.url), 'utf8')) as {
  tokens: number;
  keyShape: [number, number, number];
  meanAbsK0: number;
  exactContinuation: number[];
  quantizedContinuation: number[];
  perplexity: number[];
};

test('the bundled model runs in the worker and matches Node', async ({ page, context, log }) => {
  test.setTimeout(180_000);
  // Worker requests included: every request must stay on the preview server.
  const hosts = new Set<string>();
  context.on('request', (req) => hosts.add(new URL(req.url()).origin));

  await page.goto('/lab/model-check');
  await page.getByRole('button', { name: 'Run the model' }).click();
  await expect(page.locator('#status')).toHaveText(/^(Done\.|Error)/, { timeout: 150_000 });
  await expect(page.locator('#status')).toHaveText('Done.');

  const pre = page.locator('#result-text');
  await expect(pre).toContainText(`tokens: ${expected.tokens}`);
  await expect(pre).toContainText(`layer 0 K shape: [${expected.keyShape.join(', ')}]`);
  const meanAbsK0 = Number(await pre.getAttribute('data-mean-abs-k0'));
  expect(Math.abs(meanAbsK0 - expected.meanAbsK0) / expected.meanAbsK0).toBeLessThan(1e-3);

  expect([...hosts].filter((h) => h !== LOCAL_ORIGIN && h !== 'null')).toEqual([]);
  expectClean(log);
});

test('generate and score run in the worker and match Node', async ({ page, log }) => {
  test.setTimeout(180_000);
  await page.goto('/lab/model-check');
  await page.getByRole('button', { name: 'Compare caches' }).click();
  await expect(page.locator('#status')).toHaveText(/^(Done\.|Error)/, { timeout: 150_000 });
  await expect(page.locator('#status')).toHaveText('Done.');
  const pre = page.locator('#result-text');
  await expect(pre).toContainText(`token events: ${expected.exactContinuation.length}`);
  expect(await pre.getAttribute('data-exact-ids')).toBe(expected.exactContinuation.join(','));
  expect(await pre.getAttribute('data-quantized-ids')).toBe(expected.quantizedContinuation.join(','));
  const ppl = (await pre.getAttribute('data-perplexity'))!.split(',').map(Number);
  ppl.forEach((p, i) => expect(Math.abs(p - expected.perplexity[i]) / expected.perplexity[i]).toBeLessThan(1e-3));
  expectClean(log);
});
