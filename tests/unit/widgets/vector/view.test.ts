import { describe, expect, it } from 'vitest';
import { levelValue, resolveVectorState, syntheticVector, vectorOf, vectorView } from '../../../../src/widgets/vector/view';
import { roundToFp16 } from '../../../../src/lib/quant/index';

/** Independent float64 min-max fake quantization of one group (quanto: q = clamp(round((x − min)/s)), x̂ = q·s + min, fp16 meta). */
function referenceMinmax(x: number[], bits: number): number[] {
  const lo = Math.min(...x);
  const hi = Math.max(...x);
  const s = roundToFp16((hi - lo) / (2 ** bits - 1));
  const z = roundToFp16(lo);
  const roundHalfEven = (v: number) => {
    const f = Math.floor(v);
    const d = v - f;
    return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  };
  return x.map((v) => {
    const q = s === 0 ? 0 : Math.min(2 ** bits - 1, Math.max(0, roundHalfEven((v - z) / s)));
    return q * s + z;
  });
}

describe.each([
  [2, 16],
  [3, 32],
  [4, 64],
  [8, 8],
])('vectorView minmax %i bits, groups of %i', (bits, group) => {
  const x = syntheticVector(7);
  const v = vectorView(x, { bits, group, method: 'minmax' });
  it('dequantized points match an independent float64 reference', () => {
    const expected: number[] = [];
    for (let g = 0; g < 64; g += group) expected.push(...referenceMinmax(Array.from(x.slice(g, g + group)), bits));
    v.points.forEach((p, i) => expect(p.dequantized).toBeCloseTo(expected[i], 4));
  });
  it('relative error and max error equal the hand computation', () => {
    let num = 0;
    let den = 0;
    let max = 0;
    v.points.forEach((p) => {
      num += (p.original - p.dequantized) ** 2;
      den += p.original ** 2;
      max = Math.max(max, Math.abs(p.original - p.dequantized));
    });
    expect(v.relativeError).toBeCloseTo(Math.sqrt(num / den), 10);
    expect(v.maxAbsError).toBeCloseTo(max, 10);
  });
  it('counts b + 32/G bits per element and draws every level up to 4 bits', () => {
    expect(v.bitsPerElement).toBe(bits + 32 / group);
    expect(v.levels.length).toBe(bits <= 4 ? (64 / group) * 2 ** bits : 0);
    expect(v.result.groups).toBe(64 / group);
  });
  it('every dequantized value lies on one of its group levels', () => {
    if (bits > 4) return;
    for (const p of v.points) {
      const levels = v.levels.filter((l) => l.group === p.group).map((l) => l.value);
      expect(Math.min(...levels.map((l) => Math.abs(l - p.dequantized)))).toBeLessThan(1e-5);
    }
  });
});

describe('levels for HQQ and absmax', () => {
  it.each(['hqq', 'absmax'] as const)('%s dequantized values sit on the drawn grid', (method) => {
    const v = vectorView(syntheticVector(3), { bits: 3, group: 32, method });
    for (const p of v.points) {
      const levels = v.levels.filter((l) => l.group === p.group).map((l) => l.value);
      expect(Math.min(...levels.map((l) => Math.abs(l - p.dequantized)))).toBeLessThan(1e-5);
    }
  });
  it('levelValue follows the stored meaning of zeros', () => {
    expect(levelValue('minmax', 2, 3, 0.5, -1)).toBe(0.5);
    expect(levelValue('hqq', 2, 3, 0.5, 1)).toBe(1);
    expect(levelValue('absmax', 2, 3, 0.5, 0)).toBe(0.5);
  });
});

describe('helpers', () => {
  it('1-bit absmax becomes 2 bits with a note; other states pass through', () => {
    expect(resolveVectorState({ bits: 1, method: 'absmax' })).toEqual({ state: { bits: 2, method: 'absmax' }, note: expect.any(String) });
    expect(resolveVectorState({ bits: 1, method: 'minmax' }).note).toBeNull();
  });
  it('syntheticVector is seeded and vectorOf copies the right row', () => {
    expect(syntheticVector(5)).toEqual(syntheticVector(5));
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    expect(Array.from(vectorOf({ data, heads: 2, tokens: 3, headDim: 4 }, 1, 2))).toEqual([20, 21, 22, 23]);
    expect(Array.from(vectorOf({ data, heads: 2, tokens: 3, headDim: 4 }, 9, 9))).toEqual([20, 21, 22, 23]);
  });
});
