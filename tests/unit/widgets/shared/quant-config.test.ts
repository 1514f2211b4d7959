import { describe, expect, it } from 'vitest';
import { BITS } from '../../../../src/lib/quant/index';
import { metaDtypeOfModel, quantConfigOf, requireQuantConfig, toBits, toMemoryBits } from '../../../../src/widgets/shared/quant-config';

const choice = { bits: 4, group: 64, axis: 'token', method: 'minmax' } as const;

describe('quantConfigOf', () => {
  it('maps a widget choice to the engine config with the given metadata dtype', () => {
    expect(quantConfigOf(choice, 'fp32')).toEqual({ bits: 4, groupSize: 64, axis: 'token', method: 'minmax', metaDtype: 'fp32' });
  });
  it('16 bits means no quantization', () => {
    expect(quantConfigOf({ ...choice, bits: 16 }, 'fp16')).toBeNull();
    expect(() => requireQuantConfig({ ...choice, bits: 16 }, 'fp16')).toThrow(/no quantization/);
  });
  it.each([0, 5, 6, 7, 3.5, NaN])('rejects bits = %s with a RangeError naming the allowed widths', (b) => {
    expect(() => quantConfigOf({ ...choice, bits: b }, 'fp16')).toThrow(RangeError);
    expect(() => toBits(b)).toThrow(new RegExp(BITS.join(', ')));
  });
  it('memory bits include 16 but not 5', () => {
    expect(toMemoryBits(16)).toBe(16);
    expect(() => toMemoryBits(5)).toThrow(RangeError);
  });
});

describe('metaDtypeOfModel', () => {
  it('follows the cache dtype: fp32 for the bundled fp32 model, fp16 for the q4f16 Hub graphs and unknown models', () => {
    expect(metaDtypeOfModel('kvlab-16m')).toBe('fp32');
    expect(metaDtypeOfModel('smollm2-135m')).toBe('fp16');
    expect(metaDtypeOfModel('llama-2-7b')).toBe('fp16');
  });
});
