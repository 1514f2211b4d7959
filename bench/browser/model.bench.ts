import { test, expect } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';

/**
 * The bundled model in Chromium (WASM, one thread): load time, prefill of 256 tokens,
 * and decode speed of a 64-token side-by-side generation (two forwards per step).
 * Prints the figures and writes bench/results/model-browser.json.
 */
test('kvlab-16m in Chromium: load, prefill 256 tokens, decode', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/lab/model-check/');
  await page.getByRole('button', { name: 'Benchmark' }).click();
  const out = page.locator('#result-text');
  await expect(out).toHaveAttribute('data-bench', /loadMs/, { timeout: 240_000 });
  const r = JSON.parse((await out.getAttribute('data-bench'))!);
  const rows = [
    ['model load (worker, from_pretrained)', `${r.loadMs.toFixed(0)} ms`],
    ['model load (wall, incl. worker start)', `${r.loadWallMs.toFixed(0)} ms`],
    [`prefill ${r.prefillTokens} tokens (median of 5)`, `${r.prefillMedianMs.toFixed(0)} ms`],
    [`side-by-side generation, ${r.generateSteps} steps`, `${r.generateDecodeMs.toFixed(0)} ms`],
    ['side-by-side steps per second', r.sideBySideStepsPerSecond.toFixed(1)],
    ['decode forwards per second (one stream ≈ this)', r.forwardsPerSecond.toFixed(1)],
  ];
  console.log('\nkvlab-16m in Chromium (WASM, 1 thread)');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(48)} ${v}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/model-browser.json', JSON.stringify({ date: new Date().toISOString(), ...r }, null, 2));
});
