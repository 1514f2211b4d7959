import { describe, expect, it } from 'vitest';
import { fakeQuantize } from '../../../../src/lib/quant/index';
import { AXES } from '../../../../src/lib/quant/index';
import type { Axis } from '../../../../src/lib/quant/index';
import { groupsChannel, groupsFlatChannel, groupsStrided, groupsToken, keyLikeTensor, refHqq } from './reference';

const t = (values: number[]) => ({ data: Float32Array.from(values), heads: 1, tokens: 1, headDim: values.length });
const shrink = (x: number, beta: number) => Math.sign(x) * Math.max(0, Math.abs(x) - Math.pow(Math.abs(x), -0.3) / beta);

describe('hqq, hand-computed', () => {
  it('values on the grid: zero stays 0, loop stops at iteration 2 (error 0 is not < 0), exact output', () => {
    const r = fakeQuantize(t([0, 1, 2, 3]), { bits: 2, groupSize: 4, axis: 'token', method: 'hqq', metaDtype: 'fp32' });
    expect([...r.scales]).toEqual([1]);
    expect([...r.zeros]).toEqual([0]);
    expect([...r.dequantized]).toEqual([0, 1, 2, 3]);
  });

  it('[0, 0.05, 0.25, 3] at 2 bits: two iterations, keeps the zero computed in the breaking iteration', () => {
    // Init: s = 3 / 3 = 1, z0 = 0.
    // Iteration 1 (β = 10): W_q = [0,0,0,3], W_r = [0,0,0,3], err1 = (0.05 + 0.25) / 4 = 0.075 < +∞.
    const we1 = shrink(0.25, 10); // 0.05 is below the threshold 10^(-1/1.3) ≈ 0.17 → 0
    const z1 = (0 - 0.05 - (0.25 - we1) + 0) / 4;
    // Iteration 2 (β = 10 still: hqq ≥ 0.2.7 keeps β constant): W·s + z1 = [−0.050, −0.0004, 0.1996, 2.9496] → W_q = [0,0,0,3], W_r = −z1 (and 3 − z1).
    const e2 = [0 + z1, 0.05 + z1, 0.25 + z1, z1];
    const err2 = e2.reduce((a, e) => a + Math.abs(e), 0) / 4;
    expect(err2).toBeGreaterThan(0.075); // → break after updating the zero
    const we2 = e2.map((e) => shrink(e, 10));
    const z2 = (0 - (0 - we2[0]) + 0 - (0.05 - we2[1]) + 0 - (0.25 - we2[2]) + 3 - (3 - we2[3])) / 4;
    expect(z2).not.toBeCloseTo(z1, 3);
    const r = fakeQuantize(t([0, 0.05, 0.25, 3]), { bits: 2, groupSize: 4, axis: 'token', method: 'hqq', metaDtype: 'fp32' });
    expect(r.scales[0]).toBe(1);
    expect(r.zeros[0]).toBeCloseTo(z2, 6);
    expect([...r.codes]).toEqual([0, 0, 0, 3]);
    const expected = [0, 0, 0, 3].map((q) => (q - Math.fround(z2)) * 1);
    for (let i = 0; i < 4; i++) expect(r.dequantized[i]).toBeCloseTo(expected[i], 6);
  });

  it('a constant group (range ≤ 1e-4 → s = 1) reproduces its value', () => {
    const r = fakeQuantize(t([2, 2, 2, 2]), { bits: 4, groupSize: 4, axis: 'token', method: 'hqq', metaDtype: 'fp32' });
    expect([...r.dequantized]).toEqual([2, 2, 2, 2]);
    expect([...r.scales]).toEqual([1]);
    expect([...r.zeros]).toEqual([-2]);
  });

  it('±0 group stays zero', () => {
    const r = fakeQuantize(t([0, -0, 0, -0]), { bits: 2, groupSize: 4, axis: 'token', method: 'hqq' });
    expect([...r.dequantized]).toEqual([0, 0, 0, 0]);
  });

  it('inverse scale is capped at 2e4: a group of range 1e-3 at 8 bits has stored scale 1/2e4', () => {
    const r = fakeQuantize(t([0, 0.001, 0.0005, 0.00025]), { bits: 8, groupSize: 4, axis: 'token', method: 'hqq', metaDtype: 'fp32' });
    expect(r.scales[0]).toBe(Math.fround(1 / 2e4));
  });

  it('huge magnitudes: the first error (≥ 1e4) still beats best_error = +∞ (2024 hqq started at 1e4 and stopped at once); fp16 stays finite', () => {
    const x = [1e30, -1e30, 0, 5e29];
    const r = fakeQuantize(t(x), { bits: 2, groupSize: 4, axis: 'token', method: 'hqq', metaDtype: 'fp32' });
    const ref = refHqq(groupsToken(Float32Array.from(x), 4), 4, 2, 'fp32');
    expect(ref.itersRun).toBe(2);
    expect([...r.codes]).toEqual(ref.codes);
    for (let i = 0; i < 4; i++) expect(Math.abs(r.dequantized[i] - ref.deq[i])).toBeLessThanOrEqual(1e24);
    const r16 = fakeQuantize(t(x), { bits: 2, groupSize: 4, axis: 'token', method: 'hqq' });
    for (const v of r16.dequantized) expect(Number.isFinite(v)).toBe(true);
  });

  it('tiny magnitudes (range ≤ 1e-4 → s = 1) give finite output close to the values', () => {
    const r = fakeQuantize(t([1e-30, -1e-30, 0, 5e-31]), { bits: 4, groupSize: 4, axis: 'token', method: 'hqq' });
    for (const v of r.dequantized) expect(Math.abs(v)).toBeLessThan(1e-3);
  });

  it('hqq.iters = 0 skips the optimizer (plain min-max init with a float zero)', () => {
    const r = fakeQuantize(t([0, 0.05, 0.25, 3]), {
      bits: 2,
      groupSize: 4,
      axis: 'token',
      method: 'hqq',
      metaDtype: 'fp32',
      hqq: { iters: 0 },
    });
    expect(r.zeros[0] === 0).toBe(true); // z = −min·s = −0
    expect([...r.dequantized]).toEqual([0, 0, 0, 3]);
  });
});

describe('hqq golden tests against the float64 line-by-line reference (key-like tensors with ×10 outlier channels)', () => {
  // The engine computes in float32 as HQQ does on CPU (hqq-reference.test.ts checks it against the real code); the
  // float64 reference agrees to float32 precision: scales within 2 float32 ulps, zeros within 1e-4 code units (plus
  // the fp16 rounding), codes equal except where W·s + z lies within float32 noise of a rounding tie (≤ 0.2 %).
  const cases: Array<[number, Axis, number, 'fp16' | 'fp32']> = [];
  for (const bits of [1, 2, 3, 4, 8]) {
    for (const axis of AXES)
      cases.push([bits, axis, axis === 'channel' ? 16 : axis === 'flat-channel' ? 8 : 32, bits % 2 ? 'fp32' : 'fp16']);
  }
  it.each(cases)('bits %i, %s, G %i, %s meta', (bits, axis, G, meta) => {
    const x = keyLikeTensor(100 + bits, 2, 36, 32);
    const r = fakeQuantize(x, { bits: bits as 1, groupSize: G, axis, method: 'hqq', metaDtype: meta });
    const groups =
      axis === 'token'
        ? groupsToken(x.data, G)
        : axis === 'strided'
          ? groupsStrided(x.data, G)
          : axis === 'flat-channel'
            ? groupsFlatChannel(x.data, 2 * 36, 32, G)
            : groupsChannel(x.data, 2, 36, 32, G);
    const ref = refHqq(groups, x.data.length, bits, meta);
    expect(ref.itersRun).toBeGreaterThan(0);
    expect(r.groups).toBe(groups.values.length);
    for (let g = 0; g < r.groups; g++) {
      expect(Math.abs(r.scales[g] - ref.scales[g])).toBeLessThanOrEqual((meta === 'fp16' ? 2 ** -10 : 2 ** -22) * Math.abs(ref.scales[g]));
      expect(Math.abs(r.zeros[g] - ref.zeros[g])).toBeLessThanOrEqual(1e-4 + (meta === 'fp16' ? 2 ** -10 * Math.abs(ref.zeros[g]) : 0));
    }
    let codeDiff = 0;
    for (let i = 0; i < x.data.length; i++) if (r.codes[i] !== ref.codes[i]) codeDiff++;
    expect(codeDiff).toBeLessThanOrEqual(Math.floor(0.002 * x.data.length));
    // where the codes agree, x̂ agrees up to float32 noise plus the effect of the zeros' difference (with fp16 meta
    // the two zeros can round to adjacent halves: one fp16 ulp of z is up to 0.125 code units at 8 bits)
    let worse = 0;
    groups.index.forEach((ix, g) => {
      const tol = (i: number) => 1e-4 * (1 + Math.abs(ref.deq[i])) + Math.abs(r.zeros[g] - ref.zeros[g]) * ref.scales[g] * 1.001;
      for (const i of ix) if (r.codes[i] === ref.codes[i] && !(Math.abs(r.dequantized[i] - ref.deq[i]) <= tol(i))) worse++;
    });
    expect(worse).toBe(0);
  });
});
