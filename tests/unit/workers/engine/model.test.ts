/**
 * The model layer on the shipped model (`public/models/kvlab-16m`, onnxruntime-node), against the
 * PyTorch reference `tests/fixtures/model/reference.json` written by `scripts/model/verify.py`.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { residualSplit } from '../../../../src/lib/quant/index';
import { createModelHandler } from '../../../../src/workers/engine/handler';
import { meanAbs } from '../../../../src/lib/model/kv';
import { MODEL_CHECK_PROMPT } from '../../../../src/lib/model/model-check';
import { decodePrecomputed, type PrecomputedIndex, type PrecomputedManifest } from '../../../../src/lib/model/precomputed';
import type { ModelResponse } from '../../../../src/lib/model/protocol';
import { fakeQuantizeDequantized as quantize } from '../../../../src/workers/engine/quantize';
import { configureLocalModels, loadRunner, type ModelRunner } from '../../../../src/workers/engine/runner';
import { score } from '../../../../src/workers/engine/score';
import { generate, prefill } from '../../../../src/workers/engine/session';

const root = path.resolve(__dirname, '../../../..');
const modelsDir = path.join(root, 'public/models');
const modelDir = path.join(modelsDir, 'kvlab-16m');
const refPath = path.join(root, 'tests/fixtures/model/reference.json');
const present = existsSync(path.join(modelDir, 'onnx/model.onnx')) && existsSync(refPath);

interface Reference {
  new_tokens: number;
  prompts: {
    prompt: string;
    input_ids: number[];
    greedy_ids: number[];
    greedy_text: string;
    first8_logits_last_prompt_position: number[];
  }[];
  heldout_sample: { tokens: number; perplexity: number };
}

describe.skipIf(!present)('kvlab-16m in Node', () => {
  let runner: ModelRunner;
  let ref: Reference;
  let config: {
    num_hidden_layers: number;
    num_attention_heads: number;
    num_key_value_heads: number;
    head_dim?: number;
    hidden_size: number;
    vocab_size: number;
    max_position_embeddings: number;
  };
  let heldout: string;

  beforeAll(async () => {
    configureLocalModels(modelsDir);
    runner = await loadRunner({ model: 'kvlab-16m' });
    ref = JSON.parse(readFileSync(refPath, 'utf8'));
    config = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
    heldout = readFileSync(path.join(modelDir, 'heldout-sample.txt'), 'utf8');
  });
  afterAll(async () => runner?.dispose());

  it('reads its dimensions from config.json and returns KV of those shapes', async () => {
    const headDim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
    expect(runner.info).toMatchObject({
      layers: config.num_hidden_layers,
      heads: config.num_attention_heads,
      kvHeads: config.num_key_value_heads,
      headDim,
      vocab: config.vocab_size,
      maxPositions: config.max_position_embeddings,
      exportsQueries: true,
    });
    const r = await prefill(runner, ref.prompts[0].prompt);
    const T = ref.prompts[0].input_ids.length;
    expect(r.tokenIds).toEqual(ref.prompts[0].input_ids);
    expect(r.keys).toHaveLength(config.num_hidden_layers);
    for (const t of [...r.keys, ...r.values])
      expect([t.heads, t.tokens, t.headDim, t.data.length]).toEqual([
        config.num_key_value_heads,
        T,
        headDim,
        config.num_key_value_heads * T * headDim,
      ]);
    for (const t of r.queries!) expect([t.heads, t.tokens, t.headDim]).toEqual([config.num_attention_heads, T, headDim]);
  });

  it('is deterministic: two prefills are bit-identical', async () => {
    const a = await prefill(runner, ref.prompts[2].prompt);
    const b = await prefill(runner, ref.prompts[2].prompt);
    for (let l = 0; l < a.keys.length; l++) {
      expect(Buffer.from(a.keys[l].data.buffer).equals(Buffer.from(b.keys[l].data.buffer))).toBe(true);
      expect(Buffer.from(a.values[l].data.buffer).equals(Buffer.from(b.values[l].data.buffer))).toBe(true);
    }
    expect([...a.lastLogits]).toEqual([...b.lastLogits]);
  });

  it('matches the PyTorch reference: token ids, first logits, plain greedy continuation through our own cache feeding', async () => {
    for (const p of ref.prompts) {
      const r = await prefill(runner, p.prompt);
      expect(r.tokenIds).toEqual(p.input_ids);
      const first8 = [...r.lastLogits.subarray(0, 8)];
      first8.forEach((x, i) => expect(Math.abs(x - p.first8_logits_last_prompt_position[i])).toBeLessThan(1e-3));
      const g = await generate(
        runner,
        {
          prompt: p.prompt,
          key: { bits: 8, groupSize: 64, axis: 'token', method: 'minmax' },
          value: { bits: 8, groupSize: 64, axis: 'token', method: 'minmax' },
          residualLength: 0,
          maxNewTokens: ref.new_tokens,
          decoding: { strategy: 'greedy', repetitionPenalty: 1 },
        },
        { quantize },
      );
      expect(g.exact.tokenIds).toEqual(p.greedy_ids.slice(0, g.exact.tokenIds.length));
      if (!p.greedy_ids.some((t) => runner.eosTokenIds.includes(t))) expect(g.exact.tokenIds).toHaveLength(ref.new_tokens);
    }
  });

  it('reproduces the held-out perplexity within 1 % (exact cache, token by token after the first)', async () => {
    const r = await score(runner, { text: heldout, configs: [{ kind: 'exact' }] }, { quantize });
    expect(r.tokenIds.length).toBe(ref.heldout_sample.tokens);
    expect(Math.abs(r.results[0].perplexity - ref.heldout_sample.perplexity) / ref.heldout_sample.perplexity).toBeLessThan(0.01);
  });

  it('an 8-bit cache stays within KL 1e-3 of fp32; a 2-bit cache is clearly worse', async () => {
    const text = runner.decode(runner.encode(heldout).slice(0, 160));
    const q = (bits: 2 | 8) => ({ bits, groupSize: 64, axis: 'token', method: 'minmax' }) as const;
    const r = await score(
      runner,
      {
        text,
        prefillTokens: 64,
        configs: [
          { kind: 'exact' },
          { kind: 'quantized', key: q(8), value: q(8), residualLength: 16 },
          { kind: 'quantized', key: q(2), value: q(2), residualLength: 16 },
        ],
      },
      { quantize },
    );
    const [, k8, k2] = r.results;
    expect(k8.klToExact!).toBeLessThan(1e-3);
    expect(k2.klToExact!).toBeGreaterThan(1e-2);
    expect(k2.klToExact!).toBeGreaterThan(20 * k8.klToExact!);
    expect(k2.perplexity).toBeGreaterThan(r.results[0].perplexity);
  });

  it('side by side: teacher-forced top-1 agreement and KL separate 4 from 2 bits even when the free-running streams part early', async () => {
    const run = (bits: 2 | 4) =>
      generate(
        runner,
        {
          prompt: 'I like rock music because',
          key: { bits, groupSize: 64, axis: 'token', method: 'minmax' },
          value: { bits, groupSize: 64, axis: 'token', method: 'minmax' },
          residualLength: 8,
          maxNewTokens: 48,
        },
        { quantize },
      );
    const [g4, g2] = [await run(4), await run(2)];
    expect(g2.firstDivergence).not.toBeNull();
    expect(g4.teacherForced.kl).toHaveLength(g4.exact.tokenIds.length);
    expect(g4.teacherForced.top1Agreement).toBeGreaterThan(g2.teacherForced.top1Agreement);
    expect(g4.teacherForced.klDistribution.mean).toBeLessThan(g2.teacherForced.klDistribution.mean / 4);
  });

  it('flushes the residual exactly as residualSplit says', async () => {
    for (const R of [0, 3, 5]) {
      const g = await generate(
        runner,
        {
          prompt: ref.prompts[1].prompt,
          key: { bits: 4, groupSize: 32, axis: 'token', method: 'minmax' },
          value: { bits: 4, groupSize: 32, axis: 'token', method: 'minmax' },
          residualLength: R,
          maxNewTokens: 12,
        },
        { quantize },
      );
      expect(g.flushes).toBe(residualSplit({ prefill: g.promptTokens, decoded: g.exact.tokenIds.length - 1, residualLength: R }).flushes);
    }
  });

  it('answers load, prefill and a missing model through the worker handler', async () => {
    const sent: ModelResponse[] = [];
    const handler = createModelHandler({ post: (m) => sent.push(m), load: loadRunner, quantize });
    await handler.handle({ type: 'prefill', id: 'p', prompt: 'I like rock music because' });
    expect(sent.filter((m) => m.id === 'p').map((m) => m.type)).toEqual(expect.arrayContaining(['ready', 'result']));
    configureLocalModels(path.join(root, 'tests/fixtures/model/no-such-dir'));
    try {
      const other = createModelHandler({ post: (m) => sent.push(m), load: loadRunner, quantize });
      await other.handle({ type: 'load', id: 'x', model: 'kvlab-16m' });
      const err = sent.find((m) => m.id === 'x' && m.type === 'error');
      expect(err).toMatchObject({ type: 'error', code: 'model-missing' });
    } finally {
      configureLocalModels(modelsDir);
    }
  });

  it('the model-check fixture used by the e2e test is current (else rerun scripts/precompute/export.ts)', async () => {
    const fixture = JSON.parse(readFileSync(path.join(__dirname, '../../lib/model/fixtures/model-check.json'), 'utf8'));
    const r = await prefill(runner, MODEL_CHECK_PROMPT);
    expect(r.tokenIds.length).toBe(fixture.tokens);
    expect(Math.abs(meanAbs(r.keys[0]) - fixture.meanAbsK0) / fixture.meanAbsK0).toBeLessThan(1e-6);
  });

  const precomputedDir = path.join(root, 'public/precomputed');
  it.skipIf(!existsSync(path.join(precomputedDir, 'index.json')))(
    'precomputed files decode to the live tensors within fp16 tolerance',
    async () => {
      const index = JSON.parse(readFileSync(path.join(precomputedDir, 'index.json'), 'utf8')) as PrecomputedIndex;
      let bytes = 0;
      for (const name of readdirSync(precomputedDir)) bytes += readFileSync(path.join(precomputedDir, name)).byteLength;
      // Five examples incl. a 1,024-token one for the browser benchmark; a page loads only the example it shows.
      expect(bytes).toBeLessThan(10.5e6);
      for (const item of index.items) {
        const manifest = JSON.parse(readFileSync(path.join(precomputedDir, item.manifest), 'utf8')) as PrecomputedManifest;
        const bin = readFileSync(path.join(precomputedDir, manifest.bin));
        const stored = decodePrecomputed(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
        const live = await prefill(runner, manifest.prompt);
        expect(stored.tokenIds).toEqual(live.tokenIds);
        const pairs = [...live.keys.map((t, i) => [t, stored.keys[i]]), ...live.values.map((t, i) => [t, stored.values[i]])];
        if (stored.queries) pairs.push(...live.queries!.map((t, i) => [t, stored.queries![i]]));
        for (const [a, b] of pairs) {
          expect([b.heads, b.tokens, b.headDim]).toEqual([a.heads, a.tokens, a.headDim]);
          let worst = 0;
          for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]) - Math.abs(a.data[i]) * 2 ** -11);
          expect(worst).toBeLessThanOrEqual(2 ** -24 + 1e-6);
          expect(Math.abs(meanAbs(a) - meanAbs(b)) / meanAbs(a)).toBeLessThan(1e-3);
        }
      }
    },
  );
});
