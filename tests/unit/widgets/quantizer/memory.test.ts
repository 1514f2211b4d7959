/**
 * The memory panel's data (memory.ts): engine-format bytes against hand counts from the block layouts
 * (ggml block_q8_0 = 32 int8 codes + one fp16 scale = 34 bytes per 32 elements; FP8 = 1 byte per element with
 * per-tensor/head scales left out) and the table rows' shares of fp16.
 */
import { describe, expect, it } from 'vitest';
import { memoryFor, memoryTable } from '../../../../src/widgets/quantizer/memory';
import { quantizerCodec, type QuantizerState } from '../../../../src/widgets/quantizer/state';
import type { KvCacheBytes } from '../../../../src/lib/quant/index';

const defaults = quantizerCodec.defaults as QuantizerState;
// 1 layer, 1 KV head, head_dim 64, 32 tokens: 2,048 elements per tensor.
const info = { layers: 1, kvHeads: 1, headDim: 64 };

describe('memoryFor', () => {
  it('llama.cpp q8_0 keys, f16 values', () => {
    const { mem, summary } = memoryFor({ ...defaults, engine: 'llamacpp', kfmt: 'q8_0', vfmt: 'f16' }, info, 32);
    expect(mem.payload).toBe(2048 + 2048 * 2);
    expect(mem.meta).toBe((2048 / 32) * 2);
    expect(mem.total).toBe((2048 / 32) * 34 + 2048 * 2);
    expect(mem.fp16Total).toBe(2 * 2048 * 2);
    expect(mem.residual).toBe(0);
    expect(summary).toContain('keys in Q8_0 and values in f16');
  });
  it('vLLM FP8 E5M2 for both: one byte per element, no block scales', () => {
    const { mem } = memoryFor({ ...defaults, engine: 'vllm', dtype: 'fp8_e5m2' }, info, 32);
    expect(mem.total).toBe(2 * 2048);
    expect(mem.meta).toBe(0);
  });
});

describe('memoryTable', () => {
  it('parts, total and fp16 with shares of the fp16 cache', () => {
    const m = { payload: 1000, meta: 200, residual: 300, total: 1500, fp16Total: 4000 } as KvCacheBytes;
    expect(memoryTable(m).rows).toEqual([
      ['payload', 1000, '25.0 %'],
      ['scales and zeros', 200, '5.0 %'],
      ['residual (fp16)', 300, '7.5 %'],
      ['total', 1500, '37.5 %'],
      ['fp16 cache', 4000, '100 %'],
    ]);
  });
  it('before the first draw: an empty table', () => expect(memoryTable(undefined).rows).toEqual([]));
});
