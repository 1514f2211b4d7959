import { describe, expect, it } from 'vitest';
import { fwhtInPlace, hadamardRotate, inverseHadamardRotate } from '../../../../src/lib/quant/index';
import { keyLikeTensor } from './reference';

describe('Hadamard rotation', () => {
  it('H2/√2 and H4/2 by hand', () => {
    const a = Float64Array.from([1, 0]);
    fwhtInPlace(a, 0, 2);
    expect(a[0]).toBeCloseTo(Math.SQRT1_2, 15);
    expect(a[1]).toBeCloseTo(Math.SQRT1_2, 15);
    const b = Float64Array.from([1, 2, 3, 4]);
    fwhtInPlace(b, 0, 4);
    // rows of H4: [1,1,1,1], [1,−1,1,−1], [1,1,−1,−1], [1,−1,−1,1]
    [5, -1, -2, 0].forEach((v, i) => expect(b[i]).toBeCloseTo(v, 14));
  });

  it('is its own inverse and preserves qᵀk and norms', () => {
    const k = keyLikeTensor(1, 2, 5, 64);
    const q = keyLikeTensor(2, 2, 5, 64);
    const rk = hadamardRotate(k);
    const rq = hadamardRotate(q);
    const back = inverseHadamardRotate(rk);
    for (let i = 0; i < k.data.length; i++) expect(back.data[i]).toBeCloseTo(k.data[i], 4);
    for (let row = 0; row < 10; row++) {
      let dot = 0;
      let dotR = 0;
      for (let d = 0; d < 64; d++) {
        dot += q.data[row * 64 + d] * k.data[row * 64 + d];
        dotR += rq.data[row * 64 + d] * rk.data[row * 64 + d];
      }
      expect(dotR).toBeCloseTo(dot, 3);
    }
  });

  it('spreads a single outlier channel evenly over all channels', () => {
    const t = { data: new Float32Array(8), heads: 1, tokens: 1, headDim: 8 };
    t.data[3] = 8;
    const r = hadamardRotate(t);
    for (const v of r.data) expect(Math.abs(v)).toBeCloseTo(8 / Math.sqrt(8), 5);
  });

  it('works in place', () => {
    const t = keyLikeTensor(4, 1, 3, 16);
    const copy = t.data.slice();
    const r = hadamardRotate(t, t.data);
    expect(r.data).toBe(t.data);
    hadamardRotate(t, t.data);
    for (let i = 0; i < copy.length; i++) expect(t.data[i]).toBeCloseTo(copy[i], 5);
  });

  it('rejects a head_dim that is not a power of two', () => {
    expect(() => hadamardRotate({ data: new Float32Array(6), heads: 1, tokens: 1, headDim: 6 })).toThrow(RangeError);
    expect(() => hadamardRotate({ data: new Float32Array(6), heads: 1, tokens: 1, headDim: 6 })).toThrow(/headDim = 6 .*power of two/);
  });
});
