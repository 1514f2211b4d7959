/**
 * The perplexity widget's numbers equal real Transformers' (issue 12 §7): the shipped model in Node
 * (onnxruntime) through the same path the widget's worker takes — `score` with the widget's
 * presets (`cacheConfigOf`), the trimmed held-out passage, 1-token prefill, R = 128 — against
 * `tests/fixtures/model/transformers-perplexity.json` (Transformers 5.17 `QuantizedCache` with
 * optimum-quanto and hqq 0.2.8.post1 on the same model rebuilt in PyTorch). Settings Transformers
 * cannot run must come back as failures with Transformers' reason, not as numbers.
 *
 * HQQ axis 0 (Transformers' hqq default) is the exception, listed in `UNPINNED` and not asserted at
 * ±0.005: its figure moves by 0.01–0.03 when the keys and values change in their last float32 bit
 * (measured: ±1 ulp on 30 % of the elements, six seeds, gives int4 31.2644–31.2805 and int2
 * 35.9168–35.9384, while quanto moves by ≤ 0.0002 and HQQ axis 1 by ≤ 0.004), because HQQ's early
 * stop compares whole-tensor mean errors and every zero-point depends on where it stops. Our keys and
 * values come from ONNX Runtime, the reference's from PyTorch, which differ at that level; the gaps
 * (int4 +0.016, int2 −0.030 at the time of writing) are within that spread, not a fixable error.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeQuantizeDequantized as quantize } from '../../../../src/workers/engine/quantize';
import { configureLocalModels, loadRunner, type ModelRunner } from '../../../../src/workers/engine/runner';
import { score } from '../../../../src/workers/engine/score';
import type { ScoreResult } from '../../../../src/lib/model/protocol';
import { cacheConfigOf, type PresetId } from '../../../../src/widgets/perplexity/presets';

const root = path.resolve(__dirname, '../../../..');
const modelsDir = path.join(root, 'public/models');
const modelDir = path.join(modelsDir, 'kvlab-16m');
const fixture = JSON.parse(readFileSync(path.join(root, 'tests/fixtures/model/transformers-perplexity.json'), 'utf8')) as {
  protocol: { prefillTokens: number; residualLength: number; scoredTokens: number };
  perplexity: Record<string, number>;
  failures: Record<string, { atTokens: number; raises?: string }>;
};

describe.skipIf(!existsSync(path.join(modelDir, 'onnx/model.onnx')))(
  'perplexity widget = real Transformers (held-out passage, prefill 1, R 128)',
  () => {
    let runner: ModelRunner;
    let result: ScoreResult;
    const ids = [...Object.keys(fixture.perplexity), ...Object.keys(fixture.failures)] as PresetId[];

    beforeAll(async () => {
      configureLocalModels(modelsDir);
      runner = await loadRunner({ model: 'kvlab-16m' });
      // As the widget: the passage trimmed, one request, the widget's residual and presets.
      const text = readFileSync(path.join(modelDir, 'heldout-sample.txt'), 'utf8').trim();
      result = await score(runner, { text, configs: ids.map((id) => cacheConfigOf(id, fixture.protocol.residualLength)) }, { quantize });
    }, 300_000);
    afterAll(async () => runner?.dispose());

    it('scores the same tokens', () => {
      expect(result.prefillTokens).toBe(fixture.protocol.prefillTokens);
      expect(result.tokenIds.length - result.prefillTokens).toBe(fixture.protocol.scoredTokens);
    });

    const UNPINNED = new Set(['hqq-int4', 'hqq-int2']);
    const pinned = Object.entries(fixture.perplexity).filter(([id]) => !UNPINNED.has(id));
    it.each(pinned)('%s: perplexity within ±0.005 of Transformers', (id, expected) => {
      const r = result.results[ids.indexOf(id as PresetId)];
      expect(r.failure).toBeNull();
      expect(Math.abs(r.perplexity - expected)).toBeLessThanOrEqual(0.005);
    });

    it.each([...UNPINNED])("%s (HQQ axis 0): runs and gives a number near Transformers' (not pinned, see above)", (id) => {
      const r = result.results[ids.indexOf(id as PresetId)];
      expect(r.failure).toBeNull();
      // Within 1 % — far looser than the figures above on purpose: this only says the configuration is the same one.
      expect(Math.abs(r.perplexity / fixture.perplexity[id] - 1)).toBeLessThan(0.01);
    });

    it.each(Object.entries(fixture.failures))('%s: fails where Transformers raises, with its reason', (id, f) => {
      const r = result.results[ids.indexOf(id as PresetId)];
      expect(r.failure).not.toBeNull();
      expect(r.failure!.atTokens).toBe(f.atTokens);
      if (f.raises) expect(r.failure!.raises).toBe(f.raises);
      expect(Number.isNaN(r.perplexity)).toBe(true);
    });
  },
);
