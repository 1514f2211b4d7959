import { describe, expect, it } from 'vitest';
import { kiviResidualSplit, residualSplit } from '../../../../src/lib/quant/index';

/**
 * Step-by-step simulation of transformers' QuantizedLayer.update (transformers `cache_utils.py` `QuantizedLayer.update`), tracking tensor *dimensions*:
 * the residual starts (and is reset) as the 1-D empty `torch.tensor([])`; appending makes it 4-D.
 */
function simulateTransformers(prefill: number, decoded: number, R: number) {
  let quantized = 0;
  let residual = 0;
  let residualDim = 1;
  let initialized = false;
  let flushes = 0;
  const step = (newTokens: number) => {
    if (!initialized) {
      initialized = true;
      quantized = newTokens; // prefill quantized at once, residual stays the empty 1-D tensor
      return;
    }
    if (residualDim === 4 && residual + 1 >= R) {
      quantized = quantized + residual + newTokens; // cat([dequant, residual, new]) re-quantized
      residual = 0;
      residualDim = 1;
      flushes++;
    } else {
      residual += newTokens;
      residualDim = 4;
    }
  };
  step(prefill);
  for (let i = 0; i < decoded; i++) step(1);
  return { quantized, residual, flushes };
}

/** KIVI streaming (jy-yuan/KIVI): keys in blocks of R, values a sliding window of R. */
function simulateKivi(prefill: number, decoded: number, R: number) {
  let kq = prefill % R === 0 ? prefill : prefill < R ? 0 : prefill - (prefill % R);
  let kf = prefill - kq;
  let vq = prefill <= R ? 0 : prefill - R;
  let vf = prefill - vq;
  let flushes = 0;
  for (let i = 0; i < decoded; i++) {
    kf++;
    if (kf === R) {
      kq += R;
      kf = 0;
      flushes++;
    }
    vf++;
    if (vf > R) {
      vq++;
      vf--;
    }
  }
  return { keys: { quantized: kq, residual: kf, flushes }, values: { quantized: vq, residual: vf } };
}

describe('residualSplit (transformers QuantizedLayer.update)', () => {
  it.each([
    // prefill, decoded, R, quantized, residual, flushes
    [10, 0, 128, 10, 0, 0],
    [10, 1, 128, 10, 1, 0],
    [10, 127, 128, 10, 127, 0],
    [10, 128, 128, 138, 0, 1],
    [10, 129, 128, 138, 1, 1],
    [10, 300, 128, 266, 44, 2],
    [5, 1, 2, 5, 1, 0],
    [5, 2, 2, 7, 0, 1],
    [5, 3, 2, 7, 1, 1],
    // R = 1 and R = 0: the condition holds whenever it is checked, but a 1-D (empty) residual skips the check,
    // so steps alternate append / flush exactly like R = 2.
    [5, 1, 1, 5, 1, 0],
    [5, 2, 1, 7, 0, 1],
    [5, 3, 1, 7, 1, 1],
    [5, 1, 0, 5, 1, 0],
    [5, 2, 0, 7, 0, 1],
    [5, 7, 0, 11, 1, 3],
  ])('prefill %i, %i decode steps, R %i → %i quantized, %i residual, %i flushes', (P, N, R, q, r, f) => {
    const s = residualSplit({ prefill: P, decoded: N, residualLength: R });
    expect([s.quantized, s.residual, s.flushes]).toEqual([q, r, f]);
    expect(simulateTransformers(P, N, R)).toEqual({ quantized: q, residual: r, flushes: f });
  });

  it('matches the step-by-step simulation for R ∈ {0, 1, 2, 3, 7, 128} and every step up to 300', () => {
    for (const R of [0, 1, 2, 3, 7, 128]) {
      for (const P of [1, 13]) {
        for (let N = 0; N <= 300; N++) {
          const s = residualSplit({ prefill: P, decoded: N, residualLength: R });
          const sim = simulateTransformers(P, N, R);
          expect({ quantized: s.quantized, residual: s.residual, flushes: s.flushes }).toEqual(sim);
          expect(s.total).toBe(P + N);
          const prev = N > 0 ? simulateTransformers(P, N - 1, R) : null;
          expect(s.flushedLastStep).toBe(prev !== null && sim.flushes > prev.flushes);
          // stepsUntilFlush: the number of further steps until the flush counter increases
          let k = 1;
          while (simulateTransformers(P, N + k, R).flushes === sim.flushes) k++;
          expect(s.stepsUntilFlush).toBe(k);
        }
      }
    }
  });

  it('defaults: decoded 0, residualLength 128', () => {
    expect(residualSplit({ prefill: 3 })).toMatchObject({ quantized: 3, residual: 0, period: 128 });
  });

  it.each([
    [{ prefill: 0 }, /prefill = 0 .*positive integer/],
    [{ prefill: 2, decoded: -1 }, /decoded = -1 .*non-negative integer/],
    [{ prefill: 2, residualLength: 1.5 }, /residualLength = 1.5 .*non-negative integer/],
  ])('rejects %o', (o, msg) => {
    expect(() => residualSplit(o)).toThrow(RangeError);
    expect(() => residualSplit(o)).toThrow(msg);
  });
});

describe('kiviResidualSplit (KIVI streaming)', () => {
  it.each([
    // prefill, decoded, R → keys (q, fp), values (q, fp)
    [100, 0, 32, 96, 4, 68, 32],
    [20, 0, 32, 0, 20, 0, 20],
    [64, 0, 32, 64, 0, 32, 32],
    [100, 28, 32, 128, 0, 96, 32],
    [20, 5, 32, 0, 25, 0, 25],
    [20, 12, 32, 32, 0, 0, 32],
    [20, 13, 32, 32, 1, 1, 32],
  ])('prefill %i, %i steps, R %i → keys %i/%i, values %i/%i', (P, N, R, kq, kf, vq, vf) => {
    const s = kiviResidualSplit({ prefill: P, decoded: N, residualLength: R });
    expect([s.keys.quantized, s.keys.residual, s.values.quantized, s.values.residual]).toEqual([kq, kf, vq, vf]);
  });

  it('matches the step-by-step KIVI simulation', () => {
    for (const R of [1, 2, 5, 32, 128]) {
      for (const P of [1, 7, 32, 130]) {
        for (let N = 0; N <= 200; N++) {
          const s = kiviResidualSplit({ prefill: P, decoded: N, residualLength: R });
          const sim = simulateKivi(P, N, R);
          expect({ quantized: s.keys.quantized, residual: s.keys.residual, flushes: s.keys.flushes }).toEqual(sim.keys);
          expect(s.values).toEqual(sim.values);
          expect(s.total).toBe(P + N);
        }
      }
    }
  });

  it('rejects residualLength 0 (KIVI needs a block size)', () => {
    expect(() => kiviResidualSplit({ prefill: 4, residualLength: 0 })).toThrow(/residualLength = 0 .*positive integer/);
  });
});
