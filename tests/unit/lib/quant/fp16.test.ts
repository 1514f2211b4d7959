import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FP16_MAX, roundToFp16, roundToFp16Saturating, roundToFp32Saturating } from '../../../../src/lib/quant/fp16';
import { mulberry32, refFp16 } from './reference';

describe('roundToFp16', () => {
  it.each([
    [1, 1],
    [0.1, 0.0999755859375],
    [1 / 3, 0.333251953125],
    [65504, 65504],
    [65519.99, 65504],
    [65520, Infinity], // tie between 65504 and 65536 → even mantissa (65536) → overflow
    [-65520, -Infinity],
    [1e30, Infinity],
    [2 ** -14, 2 ** -14], // smallest normal
    [2 ** -24, 2 ** -24], // smallest subnormal
    [2 ** -25, 0], // tie between 0 and 2^-24 → even (0)
    [3 * 2 ** -25, 2 ** -23], // tie between 1·2^-24 and 2·2^-24 → even (2)
    [1e-30, 0],
    [2049, 2048], // tie at spacing 2 → even
    [2051, 2052],
  ])('%s → %s', (x, want) => {
    expect(roundToFp16(x)).toBe(want);
  });

  it('keeps −0 and NaN', () => {
    expect(Object.is(roundToFp16(-0), -0)).toBe(true);
    expect(Object.is(roundToFp16(-1e-30), -0)).toBe(true);
    expect(roundToFp16(NaN)).toBeNaN();
  });

  it('matches a table lookup of all 63,488 finite halves on 20,000 values across magnitudes', () => {
    const r = mulberry32(7);
    for (let i = 0; i < 20000; i++) {
      const x = (r() < 0.5 ? -1 : 1) * r() * 2 ** Math.floor(r() * 46 - 28);
      expect(roundToFp16(x)).toBe(refFp16(x));
    }
  });

  it('property: agrees with the table reference and is idempotent', () => {
    fc.assert(
      fc.property(fc.double({ min: -70000, max: 70000, noNaN: true }), (x) => {
        const r = roundToFp16(x);
        expect(r).toBe(refFp16(x));
        expect(roundToFp16(r)).toBe(r);
      }),
    );
  });
});

describe('saturating rounders', () => {
  it('clamp overflow to the largest finite value', () => {
    expect(roundToFp16Saturating(1e9)).toBe(FP16_MAX);
    expect(roundToFp16Saturating(-1e9)).toBe(-FP16_MAX);
    expect(roundToFp16Saturating(0.1)).toBe(0.0999755859375);
    expect(roundToFp32Saturating(1e300)).toBe(3.4028234663852886e38);
    expect(roundToFp32Saturating(-1e300)).toBe(-3.4028234663852886e38);
    expect(roundToFp32Saturating(0.1)).toBe(Math.fround(0.1));
  });
});
