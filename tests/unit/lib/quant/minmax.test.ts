import { describe, expect, it } from 'vitest';
import { fakeQuantize } from '../../../../src/lib/quant/index';
import type { KVTensor, QuantConfig } from '../../../../src/lib/quant/index';

const tensor = (values: number[], heads: number, tokens: number, headDim: number): KVTensor => ({
  data: Float32Array.from(values),
  heads,
  tokens,
  headDim,
});
const cfg = (bits: QuantConfig['bits'], groupSize: number, extra: Partial<QuantConfig> = {}): QuantConfig => ({
  bits,
  groupSize,
  axis: 'token',
  method: 'minmax',
  metaDtype: 'fp32',
  ...extra,
});

describe('minmax, token axis, hand-computed', () => {
  it('2-bit grid values are reproduced exactly (scale 1, zero = min)', () => {
    const r = fakeQuantize(tensor([0, 1, 2, 3], 1, 1, 4), cfg(2, 4));
    expect([...r.codes]).toEqual([0, 1, 2, 3]);
    expect([...r.dequantized]).toEqual([0, 1, 2, 3]);
    expect([...r.scales]).toEqual([1]);
    expect([...r.zeros]).toEqual([0]);
    expect(r.groups).toBe(1);
  });

  it('rounds half to even like torch.round: 0.5 → 0 and 1.5 → 2', () => {
    const r = fakeQuantize(tensor([0, 0.5, 1.5, 3], 1, 1, 4), cfg(2, 4));
    expect([...r.codes]).toEqual([0, 0, 2, 3]);
    expect([...r.dequantized]).toEqual([0, 0, 2, 3]);
  });

  it('1-bit keeps only min and max: (x − min)/scale = 0.6 and 0.8 round to 1', () => {
    const r = fakeQuantize(tensor([-1, 0.2, 0.6, 1], 1, 1, 4), cfg(1, 4));
    expect([...r.scales]).toEqual([2]);
    expect([...r.zeros]).toEqual([-1]);
    expect([...r.codes]).toEqual([0, 1, 1, 1]);
    expect([...r.dequantized]).toEqual([-1, 1, 1, 1]);
  });

  it('3-bit and 8-bit integer ramps are exact', () => {
    const r3 = fakeQuantize(tensor([0, 1, 2, 3, 4, 5, 6, 7], 1, 1, 8), cfg(3, 8));
    expect([...r3.codes]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...r3.dequantized]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const ramp = Array.from({ length: 256 }, (_, i) => i - 128);
    const r8 = fakeQuantize(tensor(ramp, 1, 4, 64), cfg(8, 256));
    expect([...r8.dequantized]).toEqual(ramp);
    expect(r8.codes[255]).toBe(255);
  });

  it('4-bit: x = 0.7 in [0, 1.5] with scale 0.1 → code 7 (fp32 meta)', () => {
    const r = fakeQuantize(tensor([0, 0.7, 1.5, 1.5], 1, 1, 4), cfg(4, 4));
    expect(r.scales[0]).toBe(Math.fround(0.1));
    expect(r.codes[1]).toBe(7);
    expect(r.dequantized[1]).toBe(Math.fround(7 * Math.fround(0.1)));
  });

  it('with fp16 meta the scale is rounded to half and used for quantization and dequantization', () => {
    const r = fakeQuantize(tensor([0, 0.7, 1.5, 1.5], 1, 1, 4), cfg(4, 4, { metaDtype: 'fp16' }));
    expect(r.scales[0]).toBe(0.0999755859375);
    expect(r.codes[1]).toBe(7);
    expect(r.dequantized[1]).toBe(Math.fround(7 * 0.0999755859375));
    expect(r.codes[2]).toBe(15);
  });

  it('metaDtype defaults to fp16', () => {
    const r = fakeQuantize(tensor([0, 0.7, 1.5, 1.5], 1, 1, 4), { bits: 4, groupSize: 4, axis: 'token', method: 'minmax' });
    expect(r.scales[0]).toBe(0.0999755859375);
  });

  it('a constant group reproduces its value exactly (scale 0 guarded), also for ±0', () => {
    const r = fakeQuantize(tensor([5, 5, 5, 5, -0, 0, -0, 0], 1, 2, 4), cfg(2, 4));
    expect([...r.dequantized]).toEqual([5, 5, 5, 5, 0, 0, 0, 0]);
    expect([...r.scales]).toEqual([0, 0]);
    expect([...r.codes]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('groups larger than headDim span consecutive tokens of one head', () => {
    // heads 1, tokens 2, headDim 2, G 4: one group [0, 1, 2, 3]
    const r = fakeQuantize(tensor([0, 1, 2, 3], 1, 2, 2), cfg(2, 4));
    expect(r.groups).toBe(1);
    expect([...r.dequantized]).toEqual([0, 1, 2, 3]);
  });

  it('huge magnitudes (±1e30): fp32 meta is accurate, fp16 meta saturates but stays finite', () => {
    const t = tensor([1e30, -1e30, 0, 5e29], 1, 1, 4);
    const r32 = fakeQuantize(t, cfg(2, 4));
    expect(r32.zeros[0]).toBe(Math.fround(-1e30));
    expect(r32.scales[0]).toBe(Math.fround((Math.fround(1e30) * 2) / 3));
    expect(r32.codes[0]).toBe(3);
    expect(Math.abs(r32.dequantized[0] - 1e30) / 1e30).toBeLessThan(1e-6);
    const r16 = fakeQuantize(t, cfg(2, 4, { metaDtype: 'fp16' }));
    expect([...r16.scales]).toEqual([65504]);
    expect([...r16.zeros]).toEqual([-65504]);
    for (const v of r16.dequantized) expect(Number.isFinite(v)).toBe(true);
  });

  it('tiny magnitudes (1e-30): fp32 meta is accurate, fp16 scale rounds to 0 and output is the rounded min', () => {
    const t = tensor([1e-30, -1e-30, 0, 5e-31], 1, 1, 4);
    const r32 = fakeQuantize(t, cfg(2, 4));
    expect(r32.codes[0]).toBe(3);
    expect(Math.abs(r32.dequantized[0] - 1e-30) / 1e-30).toBeLessThan(1e-6);
    const r16 = fakeQuantize(t, cfg(2, 4, { metaDtype: 'fp16' }));
    expect(r16.scales[0]).toBe(0);
    for (const v of r16.dequantized) expect(v).toBe(0);
  });
});

describe('minmax, channel axis, hand-computed', () => {
  // heads 1, tokens 3, headDim 2, G 2 → token groups {0,1} and the partial {2}.
  // channel 0: [0, 1 | 3], channel 1: [10, 20 | 40]
  const t = tensor([0, 10, 1, 20, 3, 40], 1, 3, 2);

  it('groups run over tokens per channel; group order [head, tokenGroup, channel]; partial last group', () => {
    const r = fakeQuantize(t, { bits: 2, groupSize: 2, axis: 'channel', method: 'minmax', metaDtype: 'fp32' });
    expect(r.groups).toBe(4);
    expect([...r.zeros]).toEqual([0, 10, 3, 40]);
    expect([...r.scales]).toEqual([Math.fround(1 / 3), Math.fround(10 / 3), 0, 0]);
    expect([...r.codes]).toEqual([0, 0, 3, 3, 0, 0]);
    expect(Array.from(r.dequantized, (v) => Math.round(v * 1e5) / 1e5)).toEqual([0, 10, 1, 20, 3, 40]);
  });

  it('2 heads: the second head has its own groups after the first head’s', () => {
    const t2 = tensor([0, 10, 1, 20, 3, 40, 100, 200, 101, 202, 103, 240], 2, 3, 2);
    const r = fakeQuantize(t2, { bits: 2, groupSize: 2, axis: 'channel', method: 'minmax', metaDtype: 'fp32' });
    expect(r.groups).toBe(8);
    expect([...r.zeros]).toEqual([0, 10, 3, 40, 100, 200, 103, 240]);
  });

  it('1-bit over a partial group of one token is exact', () => {
    const r = fakeQuantize(t, { bits: 1, groupSize: 2, axis: 'channel', method: 'minmax', metaDtype: 'fp16' });
    expect(r.dequantized[4]).toBe(3);
    expect(r.dequantized[5]).toBe(40);
  });
});
