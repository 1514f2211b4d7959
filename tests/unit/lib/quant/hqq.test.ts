import { describe, expect, it } from 'vitest';
import { fakeQuantize } from '../../../../src/lib/quant/index';
import { groupsChannel, groupsToken, keyLikeTensor, refHqq } from './reference';

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
    // Iteration 1 (β = 10): W_q = [0,0,0,3], W_r = [0,0,0,3], err1 = (0.05 + 0.25) / 4 = 0.075 < 1e4.
    const we1 = shrink(0.25, 10); // 0.05 is below the threshold 10^(-1/1.3) ≈ 0.17 → 0
    const z1 = (0 - 0.05 - (0.25 - we1) + 0) / 4;
    // Iteration 2 (β = 10.1): W·s + z1 = [−0.050, −0.0004, 0.1996, 2.9496] → W_q = [0,0,0,3], W_r = −z1 (and 3 − z1).
    const e2 = [0 + z1, 0.05 + z1, 0.25 + z1, z1];
    const err2 = e2.reduce((a, e) => a + Math.abs(e), 0) / 4;
    expect(err2).toBeGreaterThan(0.075); // → break after updating the zero
    const we2 = e2.map((e) => shrink(e, 10.1));
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

  it('huge magnitudes: first error ≥ 1e4 stops after one zero update, matches the reference; fp16 stays finite', () => {
    const x = [1e30, -1e30, 0, 5e29];
    const r = fakeQuantize(t(x), { bits: 2, groupSize: 4, axis: 'token', method: 'hqq', metaDtype: 'fp32' });
    const ref = refHqq(groupsToken(Float32Array.from(x), 4), 4, 2, 'fp32');
    expect(ref.itersRun).toBe(1);
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
    const r = fakeQuantize(t([0, 0.05, 0.25, 3]), { bits: 2, groupSize: 4, axis: 'token', method: 'hqq', metaDtype: 'fp32', hqq: { iters: 0 } });
    expect(r.zeros[0] === 0).toBe(true); // z = −min·s = −0
    expect([...r.dequantized]).toEqual([0, 0, 0, 3]);
  });
});

describe('hqq golden tests against the line-by-line reference (key-like tensors with ×10 outlier channels)', () => {
  const cases: Array<[number, 'token' | 'channel', number, 'fp16' | 'fp32']> = [];
  for (const bits of [1, 2, 3, 4, 8]) for (const axis of ['token', 'channel'] as const) cases.push([bits, axis, axis === 'token' ? 32 : 16, bits % 2 ? 'fp32' : 'fp16']);
  it.each(cases)('bits %i, %s axis, G %i, %s meta', (bits, axis, G, meta) => {
    const x = keyLikeTensor(100 + bits, 2, 37, 32);
    const r = fakeQuantize(x, { bits: bits as 1, groupSize: G, axis, method: 'hqq', metaDtype: meta });
    const groups = axis === 'token' ? groupsToken(x.data, G) : groupsChannel(x.data, 2, 37, 32, G);
    const ref = refHqq(groups, x.data.length, bits, meta);
    expect(ref.itersRun).toBeGreaterThan(0);
    expect([...r.scales]).toEqual(ref.scales.map(Math.fround));
    let codeDiff = 0;
    for (let i = 0; i < x.data.length; i++) if (r.codes[i] !== ref.codes[i]) codeDiff++;
    expect(codeDiff).toBe(0);
    for (let g = 0; g < r.groups; g++) expect(r.zeros[g]).toBeCloseTo(ref.zeros[g], meta === 'fp16' ? 2 : 4);
    for (let i = 0; i < x.data.length; i++) expect(Math.abs(r.dequantized[i] - ref.deq[i])).toBeLessThan(1e-3 * (1 + Math.abs(ref.deq[i])));
  });
});
