import { describe, expect, it } from 'vitest';
import { fakeQuantize, requantizationDrift, type KVTensor, type QuantConfig } from '../../../../src/lib/quant/index';

/** A deterministic [2, 96, 64] tensor with a few outlier channels (like real keys). */
function tensor(): KVTensor {
  const heads = 2,
    tokens = 96,
    headDim = 64;
  const data = new Float32Array(heads * tokens * headDim);
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
  for (let i = 0; i < data.length; i++) data[i] = rnd() * (i % headDim === 3 ? 8 : 1);
  return { data, heads, tokens, headDim };
}

function rel(x: Float32Array, y: Float32Array): number {
  let n = 0,
    d = 0;
  for (let i = 0; i < x.length; i++) {
    n += (x[i] - y[i]) ** 2;
    d += x[i] ** 2;
  }
  return Math.sqrt(n / d);
}

/** The first `n` tokens of every head, as one flat array. */
function head(t: KVTensor, data: Float32Array, tokens: number, n: number): Float32Array {
  const out = new Float32Array(t.heads * n * t.headDim);
  for (let h = 0; h < t.heads; h++) out.set(data.subarray(h * tokens * t.headDim, (h * tokens + n) * t.headDim), h * n * t.headDim);
  return out;
}

const t = tensor();

describe('requantizationDrift', () => {
  it('point 0 is the prefill quantized once; one flush re-quantizes dequant(prefill) ‖ the next tokens', () => {
    const cfg: QuantConfig = { bits: 2, groupSize: 64, axis: 'strided', method: 'hqq', metaDtype: 'fp32' };
    const [p0, p1] = requantizationDrift(t, cfg, { prefill: 32, period: 32, flushes: 1 });
    const pre: KVTensor = { ...t, tokens: 32, data: head(t, t.data, 96, 32) };
    const q0 = fakeQuantize(pre, cfg).dequantized;
    expect(p0.transformers).toBeCloseTo(rel(pre.data, q0), 12);
    // The flush, assembled here by hand: per head, the 32 dequantized tokens then tokens 32..63 exact.
    const cat = new Float32Array(2 * 64 * 64);
    for (let h = 0; h < 2; h++) {
      cat.set(q0.subarray(h * 32 * 64, (h + 1) * 32 * 64), h * 64 * 64);
      cat.set(t.data.subarray((h * 96 + 32) * 64, (h * 96 + 64) * 64), (h * 64 + 32) * 64);
    }
    const q1 = fakeQuantize({ ...t, tokens: 64, data: cat }, cfg).dequantized;
    expect(p1.transformers).toBeCloseTo(rel(pre.data, head(t, q1, 64, 32)), 12);
    expect(p1.once).toBe(p0.once);
    expect(p1.tokens).toBe(64);
  });
  it('min-max per-token groups barely drift (a group’s min and max survive), HQQ strided groups do', () => {
    const mm = requantizationDrift(
      t,
      { bits: 2, groupSize: 32, axis: 'token', method: 'minmax', metaDtype: 'fp32' },
      { prefill: 32, period: 16, flushes: 4 },
    );
    const hq = requantizationDrift(
      t,
      { bits: 2, groupSize: 64, axis: 'strided', method: 'hqq', metaDtype: 'fp32' },
      { prefill: 32, period: 16, flushes: 4 },
    );
    expect(Math.abs(mm[4].transformers - mm[4].once) / mm[4].once).toBeLessThan(1e-3);
    expect(hq[4].transformers).toBeGreaterThan(hq[4].once * 1.05);
  });
  it('refuses a schedule the tensor is too short for, naming the limit', () => {
    expect(() =>
      requantizationDrift(t, { bits: 4, groupSize: 32, axis: 'token', method: 'minmax' }, { prefill: 32, period: 32, flushes: 3 }),
    ).toThrow(/at most 2/);
  });
});
