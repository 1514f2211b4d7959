import { describe, expect, it } from 'vitest';
import { maxAbsError, meanTokenCosine, mse, relativeError, snrDb } from '../../../../src/lib/quant/index';

const f = (a: number[]) => Float32Array.from(a);

describe('metrics', () => {
  it('relativeError = ‖x − x̂‖ / ‖x‖ (3-4-5), 0 when both zero, Infinity when only x is zero', () => {
    expect(relativeError(f([3, 4]), f([0, 4]))).toBeCloseTo(3 / 5, 15);
    expect(relativeError(f([0, 0]), f([0, 0]))).toBe(0);
    expect(relativeError(f([0, 0]), f([1, 0]))).toBe(Infinity);
  });

  it('mse, maxAbsError, snrDb by hand', () => {
    expect(mse(f([1, 2, 3, 4]), f([1, 2, 3, 6]))).toBe(1);
    expect(maxAbsError(f([1, -2, 3]), f([1.5, -4, 3]))).toBe(2);
    expect(snrDb(f([3, 4]), f([3, 3.5]))).toBeCloseTo(10 * Math.log10(25 / 0.25), 12); // 20 dB
    expect(snrDb(f([1]), f([1]))).toBe(Infinity);
    expect(mse([], [])).toBe(0);
  });

  it('accumulates in float64 (1e20 + small error does not vanish)', () => {
    const x = new Float32Array(1000).fill(1e20);
    const y = x.slice();
    y[0] = 1e20 + 1e14 * 8; // different float32
    expect(relativeError(x, y)).toBeGreaterThan(0);
  });

  it('meanTokenCosine: per token vector, averaged over heads × tokens', () => {
    const t = { data: f([1, 0, 0, 1, 0, 0, 2, 2]), heads: 2, tokens: 2, headDim: 2 };
    const h = f([1, 0, 1, 0, 0, 0, 1, 1]);
    // token cosines: 1, 0 (orthogonal), 1 (both zero), 1 → mean 0.75
    expect(meanTokenCosine(t, h)).toBeCloseTo(0.75, 15);
    expect(meanTokenCosine(t, { ...t, data: h })).toBeCloseTo(0.75, 15);
  });

  it('rejects mismatched lengths and shapes', () => {
    expect(() => relativeError(f([1]), f([1, 2]))).toThrow(/xHat.length = 2 .*length of x \(1\)/);
    const t = { data: f([1, 2, 3, 4]), heads: 1, tokens: 2, headDim: 2 };
    expect(() => meanTokenCosine(t, { data: f([1, 2, 3, 4]), heads: 2, tokens: 1, headDim: 2 })).toThrow(/tHat shape/);
  });
});
