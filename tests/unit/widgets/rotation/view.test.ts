import { describe, expect, it } from 'vitest';
import { fakeQuantize, type KVTensor } from '../../../../src/lib/quant/index';
import { channelMaxAbs, peakToMedian, profileChartOptions, rotationView, RotationScratch } from '../../../../src/widgets/rotation/view';

/** Seeded keys with two outlier channels, [1, tokens, 64]. */
function keys(tokens = 128, seed = 11): KVTensor {
  let a = seed;
  const rand = () => (a = (a * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const data = new Float32Array(tokens * 64);
  for (let t = 0; t < tokens; t++) for (let d = 0; d < 64; d++) data[t * 64 + d] = (rand() - 0.5) * (d === 5 ? 12 : d === 40 ? 8 : 1);
  return { data, heads: 1, tokens, headDim: 64 };
}

/** Independent float64 orthonormal Walsh–Hadamard transform via the explicit matrix H[i][j] = (−1)^popcount(i & j) / √n. */
function hadamardRef(x: ArrayLike<number>): number[] {
  const n = x.length;
  const pop = (v: number) =>
    v
      .toString(2)
      .split('')
      .filter((c) => c === '1').length;
  return Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += (pop(i & j) % 2 ? -1 : 1) * x[j];
    return s / Math.sqrt(n);
  });
}

describe('channel profiles', () => {
  it('channelMaxAbs and peakToMedian by hand', () => {
    const t: KVTensor = { data: Float32Array.from([1, -4, 2, 3, -2, 1]), heads: 1, tokens: 2, headDim: 3 };
    expect(Array.from(channelMaxAbs(t))).toEqual([3, 4, 2]);
    expect(peakToMedian([3, 4, 2])).toBeCloseTo(4 / 3, 12);
    expect(peakToMedian([1, 2, 3, 4])).toBeCloseTo(4 / 2.5, 12);
  });
});

describe.each([
  [2, 64, 'token'],
  [4, 32, 'token'],
  [2, 32, 'channel'],
  [3, 16, 'channel'],
] as const)('rotationView %i bits G%i %s', (bits, group, kaxis) => {
  const k = keys();
  const v = rotationView(k, { bits, group, kaxis, method: 'minmax' });
  it('the rotated profile is the max |Hx| of an independent Hadamard transform', () => {
    const ref = new Array(64).fill(0);
    for (let t = 0; t < k.tokens; t++)
      hadamardRef(k.data.slice(t * 64, t * 64 + 64)).forEach((y, d) => (ref[d] = Math.max(ref[d], Math.abs(y))));
    v.after.forEach((m, d) => expect(m).toBeCloseTo(ref[d], 4));
  });
  it('plain error equals the relative error of fakeQuantize computed by hand', () => {
    const r = fakeQuantize(k, { bits, groupSize: group, axis: kaxis, method: 'minmax' });
    let num = 0;
    let den = 0;
    for (let i = 0; i < k.data.length; i++) {
      num += (k.data[i] - r.dequantized[i]) ** 2;
      den += k.data[i] ** 2;
    }
    expect(v.errorPlain).toBeCloseTo(Math.sqrt(num / den), 10);
  });
  it('rotated error: quantize the rotated keys, rotate back with the reference transform, compare', () => {
    const rotated = new Float32Array(k.data.length);
    for (let t = 0; t < k.tokens; t++) rotated.set(hadamardRef(k.data.slice(t * 64, t * 64 + 64)), t * 64);
    const r = fakeQuantize({ ...k, data: rotated }, { bits, groupSize: group, axis: kaxis, method: 'minmax' });
    let num = 0;
    let den = 0;
    for (let t = 0; t < k.tokens; t++) {
      const back = hadamardRef(r.dequantized.slice(t * 64, t * 64 + 64));
      back.forEach((y, d) => {
        const x = k.data[t * 64 + d];
        num += (x - y) ** 2;
        den += x * x;
      });
    }
    expect(v.errorRotated).toBeCloseTo(Math.sqrt(num / den), 4);
  });
  it('the rotation flattens the outlier channels', () => {
    expect(v.peakAfter).toBeLessThan(v.peakBefore);
  });
});

describe('scratch reuse and chart options', () => {
  it('reusing a scratch gives the same numbers', () => {
    const s = new RotationScratch();
    const a = rotationView(keys(), { bits: 2, group: 64, kaxis: 'token', method: 'hqq' }, s);
    const b = rotationView(keys(), { bits: 2, group: 64, kaxis: 'token', method: 'hqq' }, s);
    expect(b.errorRotated).toBe(a.errorRotated);
    expect(b.errorPlain).toBe(a.errorPlain);
  });
  it('chart options carry an aria label and hide dense marks', () => {
    const o = profileChartOptions(rotationView(keys(), { bits: 2, group: 64, kaxis: 'token', method: 'minmax' }), 600, 'keys');
    expect(o.ariaLabel).toMatch(/before the Hadamard rotation/);
    // bars, the zero rule, and the panel names drawn as text (no facet axis: it cut "after rotation")
    expect(o.marks?.length).toBe(3);
    expect((o.fy as { axis?: unknown }).axis).toBeNull();
  });
});
