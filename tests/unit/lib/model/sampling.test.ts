import { describe, expect, it } from 'vitest';
import { applyRepetitionPenalty, argMax, createRng, klDivergence, logSoftmax, sampleTopK } from '../../../../src/lib/model/sampling';

describe('sampling', () => {
  it('logSoftmax normalizes', () => {
    const lp = logSoftmax([1, 2, 3]);
    expect(Math.exp(lp[0]) + Math.exp(lp[1]) + Math.exp(lp[2])).toBeCloseTo(1, 12);
    expect(lp[2] - lp[1]).toBeCloseTo(1, 12);
  });
  it('KL is 0 for equal and positive for different distributions', () => {
    const p = logSoftmax([0, 1, 2]);
    expect(klDivergence(p, p)).toBe(0);
    // hand value: p = (0.5, 0.5), q = (0.25, 0.75): 0.5 ln 2 + 0.5 ln(2/3)
    const kl = klDivergence([Math.log(0.5), Math.log(0.5)], [Math.log(0.25), Math.log(0.75)]);
    expect(kl).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 12);
  });
  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    expect([...applyRepetitionPenalty([2, -2, 2], [0, 1, 1], 2)]).toEqual([1, -4, 2]);
  });
  it('argMax takes the first maximum', () => {
    expect(argMax([1, 3, 3])).toBe(1);
  });
  it('seeded RNG is reproducible and sampling respects top-k', () => {
    const a = createRng(7);
    const b = createRng(7);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    const logits = [5, 4, 0, -1];
    for (let i = 0; i < 50; i++) expect(sampleTopK(logits, 1, 2, i / 50)).toBeLessThan(2);
    expect(sampleTopK(logits, 1, 0, 0)).toBe(0);
    expect(sampleTopK(logits, 1, 0, 0.999999)).toBe(3);
  });
});
