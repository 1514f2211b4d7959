/**
 * The quantizer's result cache and prefetch plan: the LRU keeps what fits its byte budget, a cached HQQ result is
 * exactly what the engine computes, and the neighbour settings are one control step away.
 */
import { describe, expect, it } from 'vitest';
import { fakeQuantize, type KVTensor, type QuantConfig } from '../../../../src/lib/quant/index';
import {
  configFor,
  neighbourSettings,
  Requantizer,
  ResultCache,
  resultKey,
  type QuantOutcome,
} from '../../../../src/widgets/quantizer/model';
import { QUANTIZER_BITS } from '../../../../src/widgets/quantizer/state';
import { createRng } from '../../../../src/lib/model/sampling';

const rnd = createRng(17);
const tensor = (heads: number, tokens: number, headDim: number): KVTensor => ({
  data: Float32Array.from({ length: heads * tokens * headDim }, (_, i) => (rnd() - 0.5) * (i % headDim === 3 ? 8 : 1)),
  heads,
  tokens,
  headDim,
});
const outcome = (n: number): QuantOutcome => ({ dequantized: new Float32Array(n), used: null });

describe('ResultCache', () => {
  it('evicts the least recently used entries beyond its byte budget; get refreshes an entry', () => {
    const c = new ResultCache(3 * 400); // three arrays of 100 floats
    c.put('a', outcome(100));
    c.put('b', outcome(100));
    c.put('c', outcome(100));
    expect(c.get('a')).toBeDefined(); // a is now the most recent
    c.put('d', outcome(100)); // evicts b, the least recently used
    expect([c.has('a'), c.has('b'), c.has('c'), c.has('d')]).toEqual([true, false, true, true]);
    expect(c.bytes).toBe(1200);
    c.put('c', outcome(50)); // replacing an entry updates the byte count
    expect(c.bytes).toBe(1000);
    c.put('huge', outcome(1000)); // larger than the whole budget: not stored, nothing evicted
    expect(c.has('huge')).toBe(false);
    expect(c.size).toBe(3);
    c.clear();
    expect([c.size, c.bytes]).toEqual([0, 0]);
  });

  it('keys name the tensor and every field of the config', () => {
    const cfg: QuantConfig = { bits: 2, groupSize: 32, axis: 'channel', method: 'hqq' };
    const k = resultKey(3, 5, 'v', cfg);
    expect(
      new Set([
        k,
        resultKey(4, 5, 'v', cfg),
        resultKey(3, 6, 'v', cfg),
        resultKey(3, 5, 'k', cfg),
        resultKey(3, 5, 'v', { ...cfg, bits: 3 }),
        resultKey(3, 5, 'v', { ...cfg, groupSize: 64 }),
        resultKey(3, 5, 'v', { ...cfg, axis: 'token' }),
        resultKey(3, 5, 'v', { ...cfg, metaDtype: 'fp32' }),
      ]).size,
    ).toBe(8);
  });
});

describe('Requantizer with a cache', () => {
  const t = tensor(2, 24, 16);
  const hqq: QuantConfig = { bits: 3, groupSize: 16, axis: 'token', method: 'hqq' };

  it('stores a copy of an HQQ result and returns it on the next call: identical to fakeQuantize', () => {
    const cache = new ResultCache();
    const q = new Requantizer(cache);
    const key = resultKey(1, 0, 'k', hqq);
    const first = q.run('k', t, hqq, key);
    expect(cache.has(key)).toBe(true);
    const stored = cache.get(key)!.dequantized;
    expect(stored).not.toBe(first.dequantized); // a copy: the slot buffer is reused by the next call
    q.run('k', t, { ...hqq, bits: 2 }, resultKey(1, 0, 'k', { ...hqq, bits: 2 })); // overwrites the slot buffer
    const again = q.run('k', t, hqq, key);
    expect(again.dequantized).toBe(stored);
    expect([...again.dequantized]).toEqual([...fakeQuantize(t, hqq).dequantized]);
  });

  it('a prefetched entry (as the worker posts it) is used instead of computing', () => {
    const cache = new ResultCache();
    const key = resultKey(1, 0, 'k', hqq);
    const marked = new Float32Array(t.data.length).fill(42);
    cache.put(key, { dequantized: marked, used: hqq });
    expect(new Requantizer(cache).run('k', t, hqq, key).dequantized).toBe(marked);
  });

  it('min-max results and calls without a key are not cached', () => {
    const cache = new ResultCache();
    const q = new Requantizer(cache);
    q.run('k', t, { ...hqq, method: 'minmax' }, resultKey(1, 0, 'k', { ...hqq, method: 'minmax' }));
    q.run('k', t, hqq);
    expect(cache.size).toBe(0);
  });
});

describe('neighbourSettings', () => {
  const s = { bits: 3, group: 64, kaxis: 'token', vaxis: 'token', method: 'hqq' } as const;
  it('bits ±1, group ±1, layer ±1 for K and V, then each tensor with the other axis; all one step away', () => {
    const n = neighbourSettings(s, 2, 8, QUANTIZER_BITS);
    const label = (e: (typeof n)[number]) => `${e.layer}${e.kind}:${e.cfg.bits}/${e.cfg.groupSize}/${e.cfg.axis}`;
    expect(n.map(label)).toEqual([
      '2k:4/64/token',
      '2v:4/64/token',
      '2k:2/64/token',
      '2v:2/64/token',
      '2k:3/128/token',
      '2v:3/128/token',
      '2k:3/32/token',
      '2v:3/32/token',
      '3k:3/64/token',
      '3v:3/64/token',
      '1k:3/64/token',
      '1v:3/64/token',
      '2k:3/64/channel',
      '2v:3/64/token',
      '2k:3/64/token',
      '2v:3/64/channel',
    ]);
    for (const e of n) expect(e.cfg.method).toBe('hqq');
  });

  it('stops at the ends of each range; nothing for fast methods; no bits=16 entry', () => {
    const edge = neighbourSettings({ ...s, bits: 8, group: 128 }, 0, 1, QUANTIZER_BITS);
    expect(edge.some((e) => e.layer !== 0)).toBe(false);
    expect(edge.some((e) => e.cfg.groupSize > 128)).toBe(false);
    expect(edge.map((e) => e.cfg.bits)).not.toContain(16);
    expect(neighbourSettings({ ...s, method: 'minmax' }, 2, 8, QUANTIZER_BITS)).toEqual([]);
    expect(configFor({ ...s, bits: 16 }, 'k')).toBeNull();
  });
});
