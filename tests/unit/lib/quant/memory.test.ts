import { describe, expect, it } from 'vitest';
import { kvCacheBytes, packedBytes } from '../../../../src/lib/quant/index';

const llama2 = { layers: 32, kvHeads: 32, headDim: 128 };

describe('kvCacheBytes', () => {
  it('Llama-2-7B, 10,000 tokens, fp16: 2·2·32·32·128·10000 = 5,242,880,000 B (the blog’s ≈ 5 GB)', () => {
    const m = kvCacheBytes({ ...llama2, tokens: 10000, batch: 1, bits: 16 });
    expect(m.total).toBe(5_242_880_000);
    expect(m.fp16Total).toBe(5_242_880_000);
    expect(m.ratio).toBe(1);
    expect(m.meta).toBe(0);
    expect(m.bitsPerElement).toBe(16);
  });

  it('int4, G 64, fp16 meta: 4 + 2·16/64 = 4.5 bits per element, ratio 16/4.5', () => {
    const m = kvCacheBytes({ ...llama2, tokens: 10000, bits: 4, groupSize: 64 });
    expect(m.bitsPerElement).toBe(4.5);
    expect(m.ratio).toBeCloseTo(16 / 4.5, 12);
    expect(m.payload).toBe(5_242_880_000 / 4);
    expect(m.meta).toBe((5_242_880_000 / 2 / 64) * 2 * 2);
  });

  it.each([
    [2, 64, 2.5],
    [4, 32, 5],
    [2, 32, 3],
    [4, 128, 4.25],
    [8, 64, 8.5],
    [1, 64, 1.5],
  ] as const)('%i-bit G %i → %s bits per element', (bits, groupSize, want) => {
    expect(kvCacheBytes({ ...llama2, tokens: 1000, bits, groupSize }).bitsPerElement).toBe(want);
  });

  it('3-bit packs 10 codes per 32-bit word (HQQ 3bit_32): 3.2 bits per element of payload', () => {
    expect(packedBytes(10, 3)).toBe(4);
    expect(packedBytes(11, 3)).toBe(8);
    expect(packedBytes(8, 2)).toBe(2);
    expect(packedBytes(3, 4)).toBe(2);
    const m = kvCacheBytes({ ...llama2, tokens: 1000, bits: 3, groupSize: 64 });
    expect(m.bitsPerElement).toBeCloseTo(3.2 + 0.5, 12);
    // one layer, one head, headDim 10, one token: 10 codes per tensor → one word each, ×2 (K and V)
    expect(kvCacheBytes({ layers: 1, kvHeads: 1, headDim: 10, tokens: 1, bits: 3, groupSize: 10 }).payload).toBe(8);
  });

  it('residual tokens are stored at kvBytes and excluded from payload and meta', () => {
    const m = kvCacheBytes({ ...llama2, tokens: 10000, bits: 4, groupSize: 64, residualTokens: 128 });
    const perToken = 32 * 128; // elements of one layer's keys per token
    expect(m.residual).toBe(2 * 32 * perToken * 128 * 2);
    expect(m.payload).toBe((2 * 32 * perToken * 9872) / 2);
    expect(m.meta).toBe(2 * 32 * ((perToken * 9872) / 64) * 2 * 2);
    expect(m.total).toBe(m.payload + m.meta + m.residual);
    expect(m.quantizedTokens).toBe(9872);
    expect(m.averageBitsPerElement).toBeCloseTo((m.total * 8) / (2 * 32 * perToken * 10000), 12);
  });

  it('residualTokens larger than tokens is capped; batch and kvBytes scale the figures', () => {
    const m = kvCacheBytes({ layers: 2, kvHeads: 2, headDim: 64, tokens: 10, bits: 2, residualTokens: 50 });
    expect(m.residualTokens).toBe(10);
    expect(m.payload).toBe(0);
    expect(m.total).toBe(m.fp16Total);
    const f32 = kvCacheBytes({ layers: 2, kvHeads: 2, headDim: 64, tokens: 10, bits: 16, kvBytes: 4, batch: 3 });
    expect(f32.total).toBe(2 * 2 * 2 * 64 * 10 * 3 * 4);
    expect(f32.ratio).toBe(0.5);
  });

  it('channel axis counts ceil(tokens / G) groups per channel', () => {
    const m = kvCacheBytes({ layers: 1, kvHeads: 2, headDim: 64, tokens: 100, bits: 2, groupSize: 32, axis: 'channel' });
    expect(m.groupsPerTensor).toBe(2 * 64 * 4);
    expect(m.meta).toBe(2 * 2 * 64 * 4 * 2 * 2);
  });

  it.each([
    [{ bits: 5 }, /bits = 5 .*one of 1, 2, 3, 4, 8, 16/],
    [{ layers: 0 }, /layers = 0 .*positive integer/],
    [{ tokens: -1 }, /tokens = -1 .*non-negative integer/],
    [{ groupSize: 0 }, /groupSize = 0/],
    [{ residualTokens: 1.5 }, /residualTokens = 1.5/],
    [{ kvBytes: 0 }, /kvBytes = 0 .*> 0/],
    [{ axis: 'x' }, /axis = "x"/],
  ])('rejects %o', (patch, msg) => {
    expect(() => kvCacheBytes({ ...llama2, tokens: 10, bits: 4, ...(patch as object) } as never)).toThrow(msg);
  });
});

describe('kvCacheBytes for the Transformers-only layouts', () => {
  it.each(['strided', 'flat-channel'] as const)('%s stores numel / G groups, like per-token groups', (axis) => {
    // 1 layer, 2 heads, 64 dims, 96 tokens, G 32: 2·96·64 / 32 = 384 groups per tensor; K and V, scale and zero fp16.
    const r = kvCacheBytes({ layers: 1, kvHeads: 2, headDim: 64, tokens: 96, bits: 4, groupSize: 32, axis, residualTokens: 0 });
    expect(r.meta).toBe(2 * 384 * 2 * 2);
    expect(r.bitsPerElement).toBeCloseTo(4 + 32 / 32, 12);
  });
});
