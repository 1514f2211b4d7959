/**
 * Memory of a quantized KV cache, following the storage of transformers' quantized caches:
 * - payload: bit-packed codes. quanto `PackedTensor.pack` stores `8 // bits` codes per uint8 (int4 0.5 B, int2
 *   0.25 B per element); HQQ `bitpack.py` does the same for 1/2/4/8 bits and packs 3-bit codes 10 per int32
 *   (`3bit_32`, rows padded to a multiple of 10 → 3.2 bits per element).
 * - meta: one scale and one zero per group, each `metaBytes` (fp16 = 2 in Transformers).
 * - residual: the `residualTokens` newest tokens kept in full precision at `kvBytes` (`QuantizedLayer.keys/values`).
 * Keys and values are both counted (factor 2). `bits: 16` means an unquantized cache at `kvBytes` per element.
 * Blog check (kv-cache-quantization.md): Llama-2-7B (32 layers, 32 KV heads, head_dim 128), 10,000 tokens in fp16
 * = 2 · 2 · 32 · 32 · 128 · 10000 = 5,242,880,000 B.
 */
import { AXES, MEMORY_BITS } from './enums';
import type { Axis, MemoryBits } from './enums';
import { checkNonNegativeInteger, checkOneOf, checkPositiveInteger, optionError } from './errors';

export const defaults = {
  batch: 1,
  groupSize: 64,
  residualTokens: 0,
  kvBytes: 2,
  metaBytes: 2,
  axis: 'token' as Axis,
};

export type KvCacheBytesOptions = {
  layers: number;
  kvHeads: number;
  headDim: number;
  tokens: number;
  bits: MemoryBits;
  batch?: number;
  groupSize?: number;
  /** Full-precision tokens (at most `tokens`; larger values are capped). */
  residualTokens?: number;
  /** Bytes per full-precision element (2 = fp16/bf16, 4 = fp32). */
  kvBytes?: number;
  /** Bytes per stored scale or zero. */
  metaBytes?: number;
  /** Grouping layout: channel = KIVI groups of `groupSize` tokens (partial last group); any other layout = numel / groupSize groups. */
  axis?: Axis;
};

export type KvCacheBytes = {
  /** Packed codes of the quantized tokens (keys + values, all layers). */
  payload: number;
  /** Scales and zeros. */
  meta: number;
  /** Full-precision residual tokens. */
  residual: number;
  total: number;
  /** The same cache entirely at 2 bytes per element. */
  fp16Total: number;
  /** fp16Total / total. */
  ratio: number;
  /** (payload + meta) · 8 / quantized elements: e.g. 4.5 for int4 with fp16 meta and G = 64. */
  bitsPerElement: number;
  /** total · 8 / all elements, including the residual. */
  averageBitsPerElement: number;
  quantizedTokens: number;
  residualTokens: number;
  groupsPerTensor: number;
};

/** Bytes to store `count` codes of `bits` bits, packed like quanto/HQQ. */
export function packedBytes(count: number, bits: MemoryBits): number {
  if (bits === 16) return count * 2;
  if (bits === 3) return Math.ceil(count / 10) * 4; // HQQ 3bit_32: 10 codes per 32-bit word
  return Math.ceil((count * bits) / 8);
}

function checkPositiveNumber(option: string, v: unknown): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw optionError(option, v, 'a finite number > 0');
  return v;
}

/** Memory of a (quantized) KV cache in bytes. */
export function kvCacheBytes(p: KvCacheBytesOptions): KvCacheBytes {
  if (p === null || typeof p !== 'object') throw optionError('options', p, 'an object { layers, kvHeads, headDim, tokens, bits }');
  const layers = checkPositiveInteger('layers', p.layers);
  const kvHeads = checkPositiveInteger('kvHeads', p.kvHeads);
  const headDim = checkPositiveInteger('headDim', p.headDim);
  const tokens = checkNonNegativeInteger('tokens', p.tokens);
  const bits = checkOneOf('bits', p.bits, MEMORY_BITS);
  const batch = checkPositiveInteger('batch', p.batch ?? defaults.batch);
  const groupSize = checkPositiveInteger('groupSize', p.groupSize ?? defaults.groupSize);
  const residualIn = checkNonNegativeInteger('residualTokens', p.residualTokens ?? defaults.residualTokens);
  const kvBytes = checkPositiveNumber('kvBytes', p.kvBytes ?? defaults.kvBytes);
  const metaBytes = checkPositiveNumber('metaBytes', p.metaBytes ?? defaults.metaBytes);
  const axis = checkOneOf('axis', p.axis ?? defaults.axis, AXES);

  const perToken = batch * kvHeads * headDim; // elements of one layer's keys for one token
  const allElements = 2 * layers * perToken * tokens;
  const fp16Total = allElements * 2;
  let payload: number;
  let meta: number;
  let residual: number;
  let residualTokens: number;
  let groupsPerTensor: number;
  if (bits === 16) {
    residualTokens = 0;
    groupsPerTensor = 0;
    payload = allElements * kvBytes;
    meta = 0;
    residual = 0;
  } else {
    residualTokens = Math.min(residualIn, tokens);
    const qTokens = tokens - residualTokens;
    const qPerTensor = perToken * qTokens;
    // KIVI channel groups run along tokens per (head, channel) and may end in a partial group; every other layout
    // (token, strided = HQQ axis 0, flat-channel = quanto axis −1) splits the tensor into numel / G whole groups.
    groupsPerTensor = axis === 'channel' ? batch * kvHeads * headDim * Math.ceil(qTokens / groupSize) : Math.ceil(qPerTensor / groupSize);
    payload = 2 * layers * packedBytes(qPerTensor, bits);
    meta = 2 * layers * groupsPerTensor * 2 * metaBytes;
    residual = 2 * layers * perToken * residualTokens * kvBytes;
  }
  const total = payload + meta + residual;
  const quantizedElements = bits === 16 ? allElements : 2 * layers * perToken * (tokens - residualTokens);
  return {
    payload,
    meta,
    residual,
    total,
    fp16Total,
    ratio: total > 0 ? fp16Total / total : 1,
    bitsPerElement: quantizedElements > 0 ? ((payload + meta) * 8) / quantizedElements : bits === 16 ? kvBytes * 8 : 0,
    averageBitsPerElement: allElements > 0 ? (total * 8) / allElements : 0,
    quantizedTokens: bits === 16 ? 0 : tokens - residualTokens,
    residualTokens,
    groupsPerTensor,
  };
}
