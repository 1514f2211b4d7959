/**
 * Cache configurations the perplexity widget can score. The defaults reproduce the Hugging Face
 * post's plot (nbits 4 and 2, group 64, per-token keys and values, quanto = min-max and HQQ), plus a
 * KIVI-style row: keys per channel, values per token, 2 bits, groups of 32 — KIVI's own group size
 * (jy-yuan/KIVI docs/long_bench.md: "32 group size and 128 residual length") and the grouping the
 * post's method leaves out. Every quantized preset uses the widget's residual length R.
 */
import type { CacheConfig } from '../../lib/model/protocol';
import type { QuantConfig } from '../../lib/quant/index';

export const PRESET_IDS = ['fp32', 'quanto-int8', 'quanto-int4', 'quanto-int2', 'hqq-int4', 'hqq-int2', 'kivi-int4', 'kivi-int2'] as const;
export type PresetId = (typeof PRESET_IDS)[number];

export interface Preset {
  id: PresetId;
  label: string;
  /** null = the exact cache. */
  key: QuantConfig | null;
  value: QuantConfig | null;
}

const q = (bits: QuantConfig['bits'], groupSize: number, axis: QuantConfig['axis'], method: QuantConfig['method']): QuantConfig => ({ bits, groupSize, axis, method });

export const PRESETS: Readonly<Record<PresetId, Preset>> = {
  fp32: { id: 'fp32', label: 'fp32 (exact)', key: null, value: null },
  'quanto-int8': { id: 'quanto-int8', label: 'int8 min-max, G64', key: q(8, 64, 'token', 'minmax'), value: q(8, 64, 'token', 'minmax') },
  'quanto-int4': { id: 'quanto-int4', label: 'int4 quanto (min-max), G64', key: q(4, 64, 'token', 'minmax'), value: q(4, 64, 'token', 'minmax') },
  'quanto-int2': { id: 'quanto-int2', label: 'int2 quanto (min-max), G64', key: q(2, 64, 'token', 'minmax'), value: q(2, 64, 'token', 'minmax') },
  'hqq-int4': { id: 'hqq-int4', label: 'int4 HQQ, G64', key: q(4, 64, 'token', 'hqq'), value: q(4, 64, 'token', 'hqq') },
  'hqq-int2': { id: 'hqq-int2', label: 'int2 HQQ, G64', key: q(2, 64, 'token', 'hqq'), value: q(2, 64, 'token', 'hqq') },
  'kivi-int4': { id: 'kivi-int4', label: 'int4 KIVI-style (K per channel), G32', key: q(4, 32, 'channel', 'minmax'), value: q(4, 32, 'token', 'minmax') },
  'kivi-int2': { id: 'kivi-int2', label: 'int2 KIVI-style (K per channel), G32', key: q(2, 32, 'channel', 'minmax'), value: q(2, 32, 'token', 'minmax') },
};

/** The worker's cache config for a preset at residual length R. */
export function cacheConfigOf(id: PresetId, residualLength: number): CacheConfig {
  const p = PRESETS[id];
  if (!p.key || !p.value) return { kind: 'exact', label: p.label };
  return { kind: 'quantized', label: p.label, key: p.key, value: p.value, residualLength };
}
