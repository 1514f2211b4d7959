/**
 * Node benchmark of the model layer on the bundled model: `npx tsx bench/model-node.ts`.
 * Load time, prefill of 256 tokens, exact-cache decode tokens/s, generate (two streams), and a
 * score sweep (6 cache configs × 256 tokens). Prints a table and writes bench/results/model-node.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CacheConfig } from '../src/lib/model/protocol';
import { fakeQuantizeDequantized as quantize } from '../src/workers/engine/quantize';
import { configureLocalModels, loadRunner } from '../src/workers/engine/runner';
import { score } from '../src/workers/engine/score';
import { generate } from '../src/workers/engine/session';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  configureLocalModels(path.join(root, 'public/models'));
  const t0 = performance.now();
  const runner = await loadRunner({ model: 'kvlab-16m' });
  const loadMs = performance.now() - t0;

  const text = await readFile(path.join(root, 'public/models/kvlab-16m/heldout-sample.txt'), 'utf8');
  const ids = runner.encode(text).slice(0, 256);

  const prefillRuns: number[] = [];
  let past = null as Awaited<ReturnType<typeof runner.forward>> | null;
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    past = await runner.forward({ inputIds: ids, past: null });
    prefillRuns.push(performance.now() - s);
  }

  const decodeSteps = 64;
  let cache = { keys: past!.keys, values: past!.values };
  const s1 = performance.now();
  for (let i = 0; i < decodeSteps; i++) {
    const out = await runner.forward({ inputIds: [ids[i % ids.length]], past: cache });
    cache = { keys: out.keys, values: out.values };
  }
  const decodeMs = performance.now() - s1;

  const q = (bits: 2 | 4 | 8, axis: 'token' | 'channel' = 'token') =>
    ({ bits, groupSize: axis === 'token' ? 64 : 32, axis, method: 'minmax' }) as const;
  const gen = await generate(
    runner,
    { prompt: runner.decode(ids.slice(0, 128)), key: q(4), value: q(4), residualLength: 16, maxNewTokens: 64 },
    { quantize },
  );

  const configs: CacheConfig[] = [
    { kind: 'exact' },
    { kind: 'quantized', key: q(8), value: q(8), residualLength: 0 },
    { kind: 'quantized', key: q(4), value: q(4), residualLength: 0 },
    { kind: 'quantized', key: q(4), value: q(4), residualLength: 128 },
    { kind: 'quantized', key: q(2), value: q(2), residualLength: 0 },
    { kind: 'quantized', key: q(2, 'channel'), value: q(2), residualLength: 32 },
  ];
  const s2 = performance.now();
  const sweep = await score(runner, { text: runner.decode(ids), configs }, { quantize });
  const sweepMs = performance.now() - s2;

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    model: runner.info,
    loadMs,
    prefill256Ms: median(prefillRuns),
    decodeTokensPerSecond: decodeSteps / (decodeMs / 1000),
    decodeMsPerToken: decodeMs / decodeSteps,
    generate64: { prefillMs: gen.timings.prefillMs, decodeMs: gen.timings.decodeMs, stepsPerSecond: gen.timings.tokensPerSecond },
    scoreSweep: {
      configs: configs.length,
      scoredTokens: sweep.results[0].logProbs.length,
      ms: sweepMs,
      perConfig: sweep.results.map((r) => ({ label: r.label, ms: r.ms, perplexity: r.perplexity, klToExact: r.klToExact })),
    },
  };
  console.table({
    'load (ms)': results.loadMs.toFixed(0),
    'prefill 256 tokens (ms, median of 5)': results.prefill256Ms.toFixed(1),
    'decode (tokens/s, exact cache)': results.decodeTokensPerSecond.toFixed(1),
    'generate 64 steps, two streams (steps/s)': gen.timings.tokensPerSecond.toFixed(1),
    [`score sweep ${configs.length} configs × ${results.scoreSweep.scoredTokens} tokens (ms)`]: sweepMs.toFixed(0),
  });
  console.table(
    results.scoreSweep.perConfig.map((r) => ({
      ...r,
      ms: Math.round(r.ms),
      perplexity: r.perplexity.toFixed(3),
      klToExact: r.klToExact?.toExponential(2),
    })),
  );
  await mkdir(path.join(root, 'bench/results'), { recursive: true });
  await writeFile(path.join(root, 'bench/results/model-node.json'), JSON.stringify(results, null, 2) + '\n');
  await runner.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
