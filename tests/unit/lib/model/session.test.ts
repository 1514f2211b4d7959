import { describe, expect, it } from 'vitest';
import type { CacheConfig } from '../../../../src/lib/model/protocol';
import { fakeQuantizeDequantized as quantize } from '../../../../src/lib/model/quantize';
import { generate, prefill, score } from '../../../../src/lib/model/session';
import { ModelError, CancelledError } from '../../../../src/lib/model/errors';
import { createToyRunner, toyInfo } from './toy-runner';

const q = (bits: 1 | 2 | 3 | 4 | 8) => ({ bits, groupSize: 8, axis: 'token', method: 'minmax' }) as const;
const text = 'the quick brown fox jumps over the lazy dog, again and again';

describe('prefill', () => {
  it('returns per-layer K, V, queries and the last logits', async () => {
    const r = await prefill(createToyRunner(), 'hello');
    expect(r.tokenIds.length).toBe(5);
    expect(r.keys).toHaveLength(toyInfo.layers);
    expect(r.keys[0]).toMatchObject({ heads: 2, tokens: 5, headDim: 8 });
    expect(r.queries![0]).toMatchObject({ heads: 4, tokens: 5, headDim: 8 });
    expect(r.lastLogits).toHaveLength(toyInfo.vocab);
    expect(r.truncated).toBeNull();
  });
  it('keeps the end of a prompt longer than the context, with a notice', async () => {
    const long = 'abcdefghij'.repeat(10);
    const r = await prefill(createToyRunner(), long);
    expect(r.tokenIds.length).toBe(toyInfo.maxPositions);
    expect(r.truncated).toMatchObject({ originalTokens: 100, keptTokens: 64, kept: 'end' });
    expect(r.tokens.join('')).toBe(createToyRunner().tokenStrings(createToyRunner().encode(long).slice(-64)).join(''));
  });
  it('rejects an empty prompt with a reader-facing error', async () => {
    await expect(prefill(createToyRunner(), '   ')).rejects.toMatchObject({ code: 'empty-input' });
    await expect(prefill(createToyRunner(), '')).rejects.toBeInstanceOf(ModelError);
  });
});

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
    await expect(score(createToyRunner(), { text, configs, prefillTokens: 0 }, { quantize })).rejects.toMatchObject({ code: 'invalid-request' });
  });
  it('stops between steps when cancelled', async () => {
    const signal = { aborted: false };
    let progress = 0;
    const p = score(createToyRunner(), { text, configs }, { quantize, signal, maxChunk: 1, onProgress: () => (++progress === 3 ? (signal.aborted = true) : 0) });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('generate', () => {
  it('streams both tokens per step; 8-bit stays close, first step identical (exact prefill)', async () => {
    const events: { kl: number; sameContext: boolean }[] = [];
    const r = await generate(
      createToyRunner(),
      { prompt: 'once upon a time', key: q(8), value: q(8), residualLength: 2, maxNewTokens: 12 },
      { quantize, onToken: (t) => events.push(t) },
    );
    expect(events).toHaveLength(12);
    expect(events[0].kl).toBe(0);
    expect(r.exact.tokenIds).toHaveLength(12);
    expect(r.quantized.tokenIds).toHaveLength(12);
    expect(r.meanKl).toBeLessThan(1e-3);
    expect(r.flushes).toBe(5); // 11 decode steps, period max(R, 2) = 2
  });
  it('seeded sampling is reproducible', async () => {
    const req = { prompt: 'abc', key: q(2), value: q(2), residualLength: 4, maxNewTokens: 8, decoding: { strategy: 'sample', seed: 3, temperature: 1, topK: 5 } } as const;
    const a = await generate(createToyRunner(), req, { quantize });
    const b = await generate(createToyRunner(), req, { quantize });
    expect(a.exact.tokenIds).toEqual(b.exact.tokenIds);
    expect(a.quantized.tokenIds).toEqual(b.quantized.tokenIds);
  });
  it('rejects bad options', async () => {
    await expect(generate(createToyRunner(), { prompt: 'abc', key: q(4), value: q(4), residualLength: 0, maxNewTokens: 0 }, { quantize })).rejects.toMatchObject({ code: 'invalid-request' });
    await expect(generate(createToyRunner(), { prompt: 'abc', key: q(4), value: q(4), residualLength: -2, maxNewTokens: 3 }, { quantize })).rejects.toMatchObject({ code: 'invalid-request' });
  });
});
