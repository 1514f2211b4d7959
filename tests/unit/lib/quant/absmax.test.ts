import { describe, expect, it } from 'vitest';
import { fakeQuantize } from '../../../../src/lib/quant/index';

const t = (values: number[], tokens = 1, headDim = values.length) => ({
  data: Float32Array.from(values),
  heads: 1,
  tokens,
  headDim,
});

describe('absmax (symmetric), hand-computed', () => {
  it('2-bit: grid {−3, 0, 3}; −1/3 → 0, 0.5 → 0 (half to even); codes offset by 2', () => {
    const r = fakeQuantize(t([-3, -1, 1.5, 3]), { bits: 2, groupSize: 4, axis: 'token', method: 'absmax', metaDtype: 'fp32' });
    expect([...r.scales]).toEqual([3]);
    expect([...r.zeros]).toEqual([0]);
    expect([...r.codes]).toEqual([1, 2, 2, 3]);
    expect([...r.dequantized]).toEqual([-3, 0, 0, 3]);
  });

  it('3-bit: scale = 3 / 3 = 1, codes q + 4', () => {
    const r = fakeQuantize(t([-3, -1, 1.5, 3]), { bits: 3, groupSize: 4, axis: 'token', method: 'absmax', metaDtype: 'fp32' });
    expect([...r.codes]).toEqual([1, 3, 6, 7]);
    expect([...r.dequantized]).toEqual([-3, -1, 2, 3]);
  });

  it('4-bit and 8-bit: symmetric integers are exact', () => {
    const r4 = fakeQuantize(t([-7, -2, 0, 7]), { bits: 4, groupSize: 4, axis: 'token', method: 'absmax', metaDtype: 'fp16' });
    expect([...r4.dequantized]).toEqual([-7, -2, 0, 7]);
    expect([...r4.codes]).toEqual([1, 6, 8, 15]);
    const r8 = fakeQuantize(t([-127, -1, 5, 127]), { bits: 8, groupSize: 4, axis: 'token', method: 'absmax', metaDtype: 'fp32' });
    expect([...r8.dequantized]).toEqual([-127, -1, 5, 127]);
    expect(r8.codes[0]).toBe(1);
    expect(r8.codes[3]).toBe(255);
  });

  it('an all-zero group (±0) has scale 0 and reconstructs to 0', () => {
    const r = fakeQuantize(t([0, -0, 0, -0]), { bits: 4, groupSize: 4, axis: 'token', method: 'absmax' });
    expect([...r.dequantized]).toEqual([0, 0, 0, 0]);
    expect([...r.scales]).toEqual([0]);
  });

  it('channel axis with a partial group: per channel max |x| over the tokens', () => {
    // tokens 3, headDim 2, G 2: channel 0 [1, −2 | 4], channel 1 [3, 3 | −5]
    const r = fakeQuantize(t([1, 3, -2, 3, 4, -5], 3, 2), { bits: 2, groupSize: 2, axis: 'channel', method: 'absmax', metaDtype: 'fp32' });
    expect([...r.scales]).toEqual([2, 3, 4, 5]);
    expect([...r.dequantized]).toEqual([0, 3, -2, 3, 4, -5]); // 1/2 = 0.5 rounds half to even → 0
  });

  it('huge and tiny magnitudes stay finite with fp16 meta', () => {
    for (const s of [1e30, 1e-30]) {
      const r = fakeQuantize(t([s, -s, 0, s / 2]), { bits: 4, groupSize: 4, axis: 'token', method: 'absmax' });
      for (const v of r.dequantized) expect(Number.isFinite(v)).toBe(true);
    }
  });
});
