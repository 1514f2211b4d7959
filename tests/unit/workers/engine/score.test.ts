import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../../../src/workers/engine/errors';
import type { CacheConfig } from '../../../../src/lib/model/protocol';
import { fakeQuantizeDequantized as quantize } from '../../../../src/workers/engine/quantize';
import { score } from '../../../../src/workers/engine/score';
import { createToyRunner, toyInfo } from './toy-runner';

const q = (bits: 1 | 2 | 3 | 4 | 8) => ({ bits, groupSize: 8, axis: 'token', method: 'minmax' }) as const;
const text = 'the quick brown fox jumps over the lazy dog, again and again';

describe('score', () => {
  const configs: CacheConfig[] = [
    { kind: 'exact' },
    { kind: 'quantized', key: q(8), value: q(8), residualLength: 0 },
    { kind: 'quantized', key: q(2), value: q(2), residualLength: 4 },
  ];
  it('chunked scoring equals strict token-by-token scoring', async () => {
    const a = await score(createToyRunner(), { text, configs }, { quantize });
    const b = await score(createToyRunner(), { text, configs }, { quantize, maxChunk: 1 });
    for (let c = 0; c < configs.length; c++) {
      for (let i = 0; i < a.results[c].logProbs.length; i++) expect(a.results[c].logProbs[i]).toBeCloseTo(b.results[c].logProbs[i], 4);
    }
  });
  it('exact scoring equals one full forward; quantized caches move further from it with fewer bits', async () => {
    const runner = createToyRunner();
    const r = await score(runner, { text, configs }, { quantize });
    const ids = runner.encode(text);
    const full = await runner.forward({ inputIds: ids, past: null });
    const V = toyInfo.vocab;
    for (let t = 1; t < ids.length; t++) {
      const row = full.logits.subarray((t - 1) * V, t * V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      expect(r.results[0].logProbs[t - 1]).toBeCloseTo(row[ids[t]] - lse, 4);
    }
    expect(r.results[0].klToExact).toBe(0);
    expect(r.results[1].klToExact!).toBeLessThan(1e-3);
    expect(r.results[2].klToExact!).toBeGreaterThan(r.results[1].klToExact! * 10);
    expect(r.results.map((x) => x.label)[0]).toBe('fp32 (exact)');
  });
  it('with a large prefill, the prefill tokens are not scored', async () => {
    const r = await score(createToyRunner(), { text, configs: [{ kind: 'exact' }], prefillTokens: 10 }, { quantize });
    expect(r.results[0].logProbs.length).toBe(text.length - 10);
  });
  it('rejects too-short texts and bad options', async () => {
    await expect(score(createToyRunner(), { text: 'a', configs }, { quantize })).rejects.toMatchObject({ code: 'empty-input' });
    await expect(score(createToyRunner(), { text, configs: [] }, { quantize })).rejects.toMatchObject({ code: 'invalid-request' });
    await expect(score(createToyRunner(), { text, configs, prefillTokens: 0 }, { quantize })).rejects.toMatchObject({
      code: 'invalid-request',
    });
  });
  it('stops between steps when cancelled', async () => {
    const signal = { aborted: false };
    let progress = 0;
    const p = score(
      createToyRunner(),
      { text, configs },
      { quantize, signal, maxChunk: 1, onProgress: () => (++progress === 3 ? (signal.aborted = true) : 0) },
    );
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });
});
