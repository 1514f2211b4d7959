import { describe, expect, it } from 'vitest';
import { attentionImpact } from '../../../../src/lib/quant/index';
import { keyLikeTensor } from './reference';

const T = (data: number[], heads: number, tokens: number, headDim: number) => ({ data: Float32Array.from(data), heads, tokens, headDim });

describe('attentionImpact', () => {
  it('hand case: scores [0, ln 3] → p = [1/4, 3/4]; flattened keys → [1/2, 1/2]', () => {
    const q = T([1], 1, 1, 1);
    const k = T([0, Math.log(3)], 1, 2, 1);
    const kHat = T([0, 0], 1, 2, 1);
    const v = T([1, 3], 1, 2, 1);
    const r = attentionImpact(q, k, kHat, v, v);
    const p = [0.25, 0.75];
    expect(r.probsRef![0][0]).toBeCloseTo(p[0], 6);
    expect(r.probsHat![0][1]).toBeCloseTo(0.5, 12);
    expect(r.kl).toBeCloseTo(0.25 * Math.log(0.25 / 0.5) + 0.75 * Math.log(0.75 / 0.5), 6);
    expect(r.tv).toBeCloseTo(0.25, 6);
    // outputs: 0.25·1 + 0.75·3 = 2.5 vs 2 → 0.2
    expect(r.outputRelError).toBeCloseTo(0.2, 6);
  });

  it('identical caches give zero impact', () => {
    const k = keyLikeTensor(1, 2, 20, 8);
    const v = keyLikeTensor(2, 2, 20, 8);
    const q = keyLikeTensor(3, 6, 4, 8);
    const r = attentionImpact(q, k, k.data, v, v.data, { kvHeads: 2, queryHeads: 6, causal: true });
    expect(r.kl).toBe(0);
    expect(r.tv).toBe(0);
    expect(r.outputRelError).toBe(0);
    expect(r.probsRef).toBeNull();
  });

  it('grouped-query mapping: query heads 0–2 use kv head 0, 3–5 use kv head 1', () => {
    const k = keyLikeTensor(1, 2, 10, 4);
    const v = keyLikeTensor(2, 2, 10, 4);
    const q = keyLikeTensor(3, 6, 1, 4);
    const kHat = k.data.slice();
    for (let i = 40; i < 44; i++) kHat[i] += 0.5; // perturb kv head 1's first key only (a shift of all keys would not change softmax)
    const r = attentionImpact(q, k, kHat, v, v.data, { kvHeads: 2, queryHeads: 6 });
    for (const h of [0, 1, 2]) expect(r.perHead.kl[h]).toBe(0);
    for (const h of [3, 4, 5]) expect(r.perHead.kl[h]).toBeGreaterThan(0);
    expect(r.probsRef).toHaveLength(6);
  });

  it('causal: the i-th of qTokens queries sits at position tokens − qTokens + i', () => {
    const k = keyLikeTensor(1, 1, 5, 4);
    const v = keyLikeTensor(2, 1, 5, 4);
    const q = keyLikeTensor(3, 1, 2, 4);
    const kHat = k.data.slice();
    for (let i = 16; i < 20; i++) kHat[i] += 1; // change only the last key (position 4)
    const causal = attentionImpact(q, k, kHat, v, v.data, { causal: true });
    // query 0 is at position 3 and cannot see key 4; query 1 sees it.
    const onlyLast = attentionImpact({ ...q, tokens: 1, data: q.data.slice(4, 8) }, k, kHat, v, v.data, { causal: true });
    expect(causal.kl).toBeCloseTo(onlyLast.kl / 2, 12);
    const full = attentionImpact(q, k, kHat, v, v.data, { causal: false });
    expect(full.kl).toBeGreaterThan(causal.kl);
  });

  it('is numerically stable for huge scores', () => {
    const q = T([1000, 1000], 1, 1, 2);
    const k = T([1000, 0, 0, 1000, -1000, 5], 1, 3, 2);
    const kHat = T([999, 0, 0, 1001, -1000, 5], 1, 3, 2);
    const v = T([1, 2, 3, 4, 5, 6], 1, 3, 2);
    const r = attentionImpact(q, k, kHat, v, v);
    expect(Number.isFinite(r.kl)).toBe(true);
    expect(Number.isFinite(r.outputRelError)).toBe(true);
    expect(r.probsRef![0].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it('rejects inconsistent head counts and shapes', () => {
    const k = keyLikeTensor(1, 2, 4, 4);
    const q = keyLikeTensor(3, 3, 1, 4);
    expect(() => attentionImpact(q, k, k, k, k, { kvHeads: 2, queryHeads: 3 })).toThrow(/queryHeads = 3 .*multiple of kvHeads \(2\)/);
    expect(() => attentionImpact(keyLikeTensor(3, 2, 9, 4), k, k, k, k)).toThrow(/q.tokens = 9 .*at most kRef.tokens \(4\)/);
    expect(() => attentionImpact(keyLikeTensor(3, 2, 1, 8), k, k, k, k)).toThrow(/q.headDim = 8/);
    expect(() => attentionImpact(keyLikeTensor(3, 2, 1, 4), k, new Float32Array(3), k, k)).toThrow(/kHat.length = 3/);
  });
});
