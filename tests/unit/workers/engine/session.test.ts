import { describe, expect, it } from 'vitest';
import { fakeQuantizeDequantized as quantize } from '../../../../src/workers/engine/quantize';
import { generate, prefill } from '../../../../src/workers/engine/session';
import { ModelError } from '../../../../src/workers/engine/errors';
import { createToyRunner, toyInfo } from './toy-runner';

const q = (bits: 1 | 2 | 3 | 4 | 8) => ({ bits, groupSize: 8, axis: 'token', method: 'minmax' }) as const;

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
    const req = {
      prompt: 'abc',
      key: q(2),
      value: q(2),
      residualLength: 4,
      maxNewTokens: 8,
      decoding: { strategy: 'sample', seed: 3, temperature: 1, topK: 5 },
    } as const;
    const a = await generate(createToyRunner(), req, { quantize });
    const b = await generate(createToyRunner(), req, { quantize });
    expect(a.exact.tokenIds).toEqual(b.exact.tokenIds);
    expect(a.quantized.tokenIds).toEqual(b.quantized.tokenIds);
  });
  it('rejects bad options', async () => {
    await expect(
      generate(createToyRunner(), { prompt: 'abc', key: q(4), value: q(4), residualLength: 0, maxNewTokens: 0 }, { quantize }),
    ).rejects.toMatchObject({ code: 'invalid-request' });
    await expect(
      generate(createToyRunner(), { prompt: 'abc', key: q(4), value: q(4), residualLength: -2, maxNewTokens: 3 }, { quantize }),
    ).rejects.toMatchObject({ code: 'invalid-request' });
  });
});
