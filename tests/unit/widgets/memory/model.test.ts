import { describe, expect, it } from 'vitest';
import { memoryCodec } from '../../../../src/widgets/memory/state';
import { cacheAt, maxTokensThatFit, summarize, fmtGB, fmtGiB } from '../../../../src/widgets/memory/model';
import { breakdown } from '../../../../src/widgets/memory/view';

const state = (query: string) => memoryCodec.parse(new URLSearchParams(query)).state;

describe('memory calculator numbers', () => {
  it('reproduces the blog figure: Llama-2-7B, 10,000 tokens, fp16 = 5.24 GB', () => {
    const s = summarize(state('model=llama-2-7b&tokens=10000&bits=16'));
    // 2 (K,V) · 2 bytes · 32 layers · 32 heads · 128 dims · 10,000 tokens, computed by hand.
    expect(s.quant.total).toBe(2 * 2 * 32 * 32 * 128 * 10_000);
    expect(fmtGB(s.quant.total)).toBe('5.24 GB');
    expect(fmtGiB(s.quant.total)).toBe('4.88 GiB');
  });

  it('int4, G64, R128 on Llama-3-8B matches a hand computation', () => {
    const s = state('model=llama-3-8b&tokens=4096&bits=4&group=64&residual=128');
    const perToken = 2 * 32 * 8 * 128; // elements of K and V per token
    const quantized = (4096 - 128) * perToken;
    const expected = quantized * 0.5 + (quantized / 64) * 2 * 2 + 128 * perToken * 2;
    expect(cacheAt(s, 4096).total).toBe(expected);
  });

  it('tokens that fit leave the cache within the available memory, and one more would not fit', () => {
    const s = state('model=mistral-7b&bits=4&gpu=24');
    const available = 24e9 - 7.24e9 * 2;
    const n = maxTokensThatFit(s, 4, available);
    expect(cacheAt(s, n, 4).total).toBeLessThanOrEqual(available);
    expect(cacheAt(s, n + 1, 4).total).toBeGreaterThan(available);
    expect(summarize(s).fitsQuant).toBe(n);
  });

  it('reports no room when the weights exceed the GPU', () => {
    const s = summarize(state('model=llama-3.1-70b&gpu=80'));
    expect(s.available).toBeLessThan(0);
    expect(s.fitsQuant).toBe(0);
  });

  it('splits the quantized bar into payload, scales/zeros and residual that add up to the total', () => {
    const st = state('model=llama-2-7b&tokens=10000&bits=2&group=32&residual=128');
    const s = summarize(st);
    const parts = breakdown(s, st).filter((d) => d.config !== 'fp16');
    expect(parts.map((d) => d.part)).toEqual(['payload', 'scales and zeros', 'residual (fp16)']);
    expect(parts.reduce((a, d) => a + d.gb, 0) * 1e9).toBeCloseTo(s.quant.total, 0);
  });

  it('uses the custom architecture when model=custom', () => {
    const s = summarize(state('model=custom&layers=2&kvheads=1&headdim=8&tokens=10&bits=16'));
    expect(s.quant.total).toBe(2 * 2 * 2 * 1 * 8 * 10);
    expect(s.weights).toBe(0);
  });
});
