import { describe, expect, it } from 'vitest';
import { concatTokens, emptyKV, floatToHalf, halfToFloat, kvFromDims, meanAbs, sliceTokens } from '../../../../src/lib/model/kv';

const t = (heads: number, tokens: number, headDim: number, start = 0) => ({
  data: Float32Array.from({ length: heads * tokens * headDim }, (_, i) => start + i),
  heads,
  tokens,
  headDim,
});

describe('concatTokens / sliceTokens', () => {
  it('concatenates per head along the token axis', () => {
    const a = t(2, 1, 2, 0); // head0 [0,1], head1 [2,3]
    const b = t(2, 2, 2, 10); // head0 [10..13], head1 [14..17]
    const c = concatTokens(a, emptyKV(2, 2), b);
    expect(c.tokens).toBe(3);
    expect([...c.data]).toEqual([0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17]);
    expect(sliceTokens(c, 1)).toEqual(b);
    expect(sliceTokens(c, 0, 1)).toEqual(a);
  });
  it('rejects mismatched shapes', () => {
    expect(() => concatTokens(t(2, 1, 2), t(1, 1, 2))).toThrow(RangeError);
  });
  it('returns a copy even for one part', () => {
    const a = t(1, 2, 2);
    const c = concatTokens(a);
    c.data[0] = 99;
    expect(a.data[0]).toBe(0);
  });
});

describe('float16', () => {
  it.each([
    [0, 0x0000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [1e6, 0x7c00],
    [2 ** -24, 0x0001],
    [0.1, 0x2e66],
    [1 + 2 ** -11, 0x3c00], // tie → even
    [1 + 3 * 2 ** -11, 0x3c02],
  ])('%f ↔ 0x%s', (value, bits) => {
    expect(floatToHalf(value)).toBe(bits);
    if (Number.isFinite(value) && Math.abs(value) <= 65504)
      expect(Math.abs(halfToFloat(bits) - value)).toBeLessThanOrEqual(Math.abs(value) * 2 ** -11 + 2 ** -25);
  });
  it('round-trips every finite half exactly', () => {
    for (let h = 0; h < 0x7c00; h++) expect(floatToHalf(halfToFloat(h))).toBe(h);
  });
});

describe('kvFromDims / meanAbs', () => {
  it('views [1, h, t, d] as a KVTensor and widens float16 bits', () => {
    expect(kvFromDims(new Float32Array(12), [1, 2, 3, 2]).tokens).toBe(3);
    expect([...kvFromDims(new Uint16Array([0x3c00, 0xc000]), [1, 1, 1, 2]).data]).toEqual([1, -2]);
    expect(() => kvFromDims(new Float32Array(4), [2, 1, 1, 2])).toThrow(RangeError);
  });
  it('meanAbs averages absolute values', () => {
    expect(meanAbs({ data: Float32Array.from([1, -3]), heads: 1, tokens: 1, headDim: 2 })).toBe(2);
  });
});
