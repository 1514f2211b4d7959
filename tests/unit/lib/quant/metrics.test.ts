import { describe, expect, it } from 'vitest';
import {
  maxAbsError,
  meanTokenCosine,
  mse,
  reconstructionMetrics,
  relativeError,
  relativeErrorOfSums,
  snrDb,
  squaredErrorSums,
} from '../../../../src/lib/quant/index';
import type { KVTensor } from '../../../../src/lib/quant/index';
import { mulberry32 } from './reference';

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

  it('reconstructionMetrics: one pass equals the separate metrics per head and for the whole tensor', () => {
    const rnd = mulberry32(3);
    const close = (a: number, b: number) =>
      expect(Number.isFinite(b) ? Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)) : Object.is(a, b), `${a} vs ${b}`).toBe(true);
    const cases: Array<[number, number, number, (i: number) => number, (x: number, i: number) => number]> = [
      [2, 37, 16, (i) => (rnd() - 0.5) * (i % 16 === 3 ? 10 : 1), (x) => Math.fround(x + (rnd() - 0.5) * 0.05)],
      [3, 5, 4, (i) => (i % 7 === 0 ? 0 : rnd()), (x, i) => (i % 5 === 0 ? 0 : x)], // zero token vectors on either side
      [1, 4, 2, () => 0, () => 0], // all zero: exact
      [2, 3, 3, (i) => i, (x) => x], // exact reconstruction: SNR = Infinity, error 0
    ];
    for (const [heads, tokens, headDim, gen, hat] of cases) {
      const data = Float32Array.from({ length: heads * tokens * headDim }, (_, i) => gen(i));
      const t: KVTensor = { data, heads, tokens, headDim };
      const xHat = Float32Array.from(data, (x, i) => hat(x, i));
      const r = reconstructionMetrics(t, xHat);
      const want = (tt: KVTensor, y: Float32Array) => ({
        relativeError: relativeError(tt.data, y),
        snrDb: snrDb(tt.data, y),
        maxAbsError: maxAbsError(tt.data, y),
        cosine: meanTokenCosine(tt, y),
      });
      const all = want(t, xHat);
      for (const k of ['relativeError', 'snrDb', 'maxAbsError', 'cosine'] as const) close(r.all[k], all[k]);
      expect(r.heads).toHaveLength(heads);
      const n = tokens * headDim;
      for (let h = 0; h < heads; h++) {
        const th: KVTensor = { data: data.subarray(h * n, (h + 1) * n), heads: 1, tokens, headDim };
        const w = want(th, xHat.subarray(h * n, (h + 1) * n));
        for (const k of ['relativeError', 'snrDb', 'maxAbsError', 'cosine'] as const) close(r.heads[h][k], w[k]);
      }
    }
    expect(() => reconstructionMetrics({ data: f([1, 2]), heads: 1, tokens: 1, headDim: 2 }, f([1]))).toThrow(/xHat.length/);
  });

  it('squaredErrorSums of parts, added, give relativeError of the whole (and its 0 / Infinity conventions)', () => {
    const rnd = mulberry32(9);
    const x = Float32Array.from({ length: 300 }, () => rnd() - 0.5);
    const y = Float32Array.from(x, (v) => Math.fround(v + (rnd() - 0.5) * 0.01));
    const sums = { error: 0, signal: 0 };
    for (const [a, b] of [
      [0, 100],
      [100, 250],
      [250, 300],
    ]) {
      const s = squaredErrorSums(x.subarray(a, b), y.subarray(a, b));
      sums.error += s.error;
      sums.signal += s.signal;
    }
    expect(Math.abs(relativeErrorOfSums(sums) - relativeError(x, y))).toBeLessThan(1e-15);
    expect(relativeErrorOfSums(squaredErrorSums(f([0, 0]), f([0, 0])))).toBe(0);
    expect(relativeErrorOfSums(squaredErrorSums(f([0, 0]), f([1, 0])))).toBe(Infinity);
    expect(() => squaredErrorSums(f([1]), f([1, 2]))).toThrow(/xHat.length/);
  });
});
