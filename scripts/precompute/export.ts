/**
 * Export real tensors of the bundled model for the widgets: `npx tsx scripts/precompute/export.ts`.
 *
 * Runs `kvlab-16m` in Node (transformers.js + onnxruntime-node) on each prompt of `prompts.ts` and
 * writes `public/precomputed/<id>.json` + `<id>.bin` (float16) and `index.json`, plus
 * `tests/unit/lib/model/fixtures/model-check.json` (the stats the model-check page must reproduce).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { meanAbs } from '../../src/lib/model/kv';
import { encodePrecomputed, type PrecomputedIndex } from '../../src/lib/model/precomputed';
import { configureLocalModels, loadRunner, type ModelRunner } from '../../src/workers/engine/runner';
import { score } from '../../src/workers/engine/score';
import { generate, prefill } from '../../src/workers/engine/session';
import { MODEL_CHECK_NEW_TOKENS, MODEL_CHECK_PROMPT, MODEL_CHECK_QUANT, MODEL_CHECK_RESIDUAL } from '../../src/lib/model/model-check';
import { fakeQuantizeDequantized as quantize } from '../../src/workers/engine/quantize';
import { PROMPTS } from './prompts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = path.join(root, 'public/precomputed');
const modelsDir = path.join(root, 'public/models');

/** Longest prefix of `text`, cut at whitespace, that tokenizes to at most `maxTokens`. */
function cutToTokens(runner: ModelRunner, text: string, maxTokens: number): string {
  if (runner.encode(text).length <= maxTokens) return text;
  const cuts = [...text.matchAll(/\s+/g)].map((m) => m.index!);
  let lo = 0;
  let hi = cuts.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (runner.encode(text.slice(0, cuts[mid])).length <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, cuts[lo]);
}

async function main() {
  configureLocalModels(modelsDir);
  const runner = await loadRunner({ model: 'kvlab-16m' });
  await mkdir(outDir, { recursive: true });
  const index: PrecomputedIndex = { version: 1, model: 'kvlab-16m', items: [] };
  let total = 0;
  for (const p of PROMPTS) {
    const source = p.text.startsWith('@heldout')
      ? (await readFile(path.join(modelsDir, 'kvlab-16m/heldout-sample.txt'), 'utf8')).trim() + p.text.slice('@heldout'.length)
      : p.text;
    const text = p.maxTokens ? cutToTokens(runner, source.trim(), p.maxTokens) : source;
    const r = await prefill(runner, text);
    const { manifest, bin } = encodePrecomputed(
      { id: p.id, title: p.title, prompt: text, generator: 'scripts/precompute/export.ts' },
      p.queries ? r : { ...r, queries: null },
    );
    await writeFile(path.join(outDir, `${p.id}.json`), JSON.stringify(manifest));
    await writeFile(path.join(outDir, `${p.id}.bin`), bin);
    index.items.push({
      id: p.id,
      title: p.title,
      tokens: r.tokenIds.length,
      manifest: `${p.id}.json`,
      bytes: bin.byteLength,
      prompt: text,
    });
    total += bin.byteLength;
    console.log(`${p.id}: ${r.tokenIds.length} tokens, ${(bin.byteLength / 1e6).toFixed(2)} MB`);
  }
  await writeFile(path.join(outDir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  console.log(`total ${(total / 1e6).toFixed(2)} MB`);

  // Expected numbers for the model-check page and its end-to-end test.
  const check = await prefill(runner, MODEL_CHECK_PROMPT);
  const gen = await generate(
    runner,
    {
      prompt: MODEL_CHECK_PROMPT,
      key: MODEL_CHECK_QUANT,
      value: MODEL_CHECK_QUANT,
      residualLength: MODEL_CHECK_RESIDUAL,
      maxNewTokens: MODEL_CHECK_NEW_TOKENS,
    },
    { quantize },
  );
  const sc = await score(
    runner,
    {
      text: MODEL_CHECK_PROMPT,
      configs: [
        { kind: 'exact' },
        { kind: 'quantized', key: MODEL_CHECK_QUANT, value: MODEL_CHECK_QUANT, residualLength: MODEL_CHECK_RESIDUAL },
      ],
    },
    { quantize },
  );
  const fixtureDir = path.join(root, 'tests/unit/lib/model/fixtures');
  await mkdir(fixtureDir, { recursive: true });
  await writeFile(
    path.join(fixtureDir, 'model-check.json'),
    JSON.stringify(
      {
        prompt: MODEL_CHECK_PROMPT,
        tokens: check.tokenIds.length,
        keyShape: [check.keys[0].heads, check.keys[0].tokens, check.keys[0].headDim],
        meanAbsK0: meanAbs(check.keys[0]),
        exactContinuation: gen.exact.tokenIds,
        quantizedContinuation: gen.quantized.tokenIds,
        perplexity: sc.results.map((r) => r.perplexity),
        generator: 'scripts/precompute/export.ts',
      },
      null,
      2,
    ) + '\n',
  );
  await runner.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
