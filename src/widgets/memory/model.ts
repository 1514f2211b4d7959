/**
 * Numbers the memory calculator shows, all from src/lib/quant's kvCacheBytes
 * (never recomputed here), for a preset or custom architecture.
 */
import { kvCacheBytes, type KvCacheBytes, type MemoryBits } from '../../lib/quant/index';
import { MEMORY_PRESETS } from './presets';
import type { MemoryState } from './state';
import { toMemoryBits } from '../shared/quant-config';

export interface Architecture {
  label: string;
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Parameter count, for weight memory (fp16); undefined for a custom model. */
  params?: number;
}

export function architectureOf(s: MemoryState): Architecture {
  const preset = MEMORY_PRESETS.find((p) => p.id === s.model);
  if (preset) return preset;
  return { label: 'Custom model', layers: s.layers, kvHeads: s.kvheads, headDim: s.headdim };
}

export function cacheAt(s: MemoryState, tokens: number, bits: MemoryBits = toMemoryBits(s.bits)): KvCacheBytes {
  const a = architectureOf(s);
  return kvCacheBytes({
    layers: a.layers,
    kvHeads: a.kvHeads,
    headDim: a.headDim,
    tokens,
    batch: s.batch,
    bits,
    groupSize: s.group,
    residualTokens: bits === 16 ? 0 : Math.min(s.residual, tokens),
  });
}

export interface MemorySummary {
  arch: Architecture;
  fp16: KvCacheBytes;
  quant: KvCacheBytes;
  /** fp16 weights, bytes (0 when unknown). */
  weights: number;
  /** Bytes left for the cache on the GPU. */
  available: number;
  /** Largest context (tokens per sequence, at this batch) that fits, for fp16 and the chosen bits. */
  fitsFp16: number;
  fitsQuant: number;
}

/** Largest token count whose cache fits in `available` bytes (binary search over kvCacheBytes). */
export function maxTokensThatFit(s: MemoryState, bits: MemoryBits, available: number): number {
  if (available <= 0) return 0;
  let lo = 0;
  let hi = 1;
  while (hi < 1e9 && cacheAt(s, hi, bits).total <= available) hi *= 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (cacheAt(s, mid, bits).total <= available) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function summarize(s: MemoryState): MemorySummary {
  const arch = architectureOf(s);
  const weights = arch.params ? arch.params * 2 : 0;
  const available = s.gpu * 1e9 - weights;
  return {
    arch,
    fp16: cacheAt(s, s.tokens, 16),
    quant: cacheAt(s, s.tokens),
    weights,
    available,
    fitsFp16: maxTokensThatFit(s, 16, available),
    fitsQuant: maxTokensThatFit(s, toMemoryBits(s.bits), available),
  };
}

export const GB = 1e9;
export const GIB = 2 ** 30;
export const fmtGB = (bytes: number) => `${(bytes / GB).toFixed(2)} GB`;
export const fmtGiB = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;

/** Points of the memory-vs-context chart: fp16 and the chosen configuration. */
export function growthCurve(s: MemoryState, points = 40): Array<{ tokens: number; gb: number; series: string }> {
  const maxTokens = Math.max(s.tokens * 2, 1024);
  const out: Array<{ tokens: number; gb: number; series: string }> = [];
  const label = s.bits === 16 ? 'fp16' : `int${s.bits}, G${s.group}, R${s.residual}`;
  for (let i = 0; i <= points; i++) {
    const t = Math.round((maxTokens * i) / points);
    out.push({ tokens: t, gb: cacheAt(s, t, 16).total / GB, series: 'fp16' });
    if (s.bits !== 16) out.push({ tokens: t, gb: cacheAt(s, t).total / GB, series: label });
  }
  return out;
}
