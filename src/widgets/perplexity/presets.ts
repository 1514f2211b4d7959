/**
 * Cache configurations the perplexity widget can score.
 *
 * Transformers settings (`QuantizedCache(backend, nbits, axis_key, axis_value, q_group_size,
 * residual_length)` in Transformers 5.x `src/transformers/cache_utils.py`) are named as Transformers
 * names them and run with the failures Transformers has (the worker stops where the backend raises
 * and the widget shows why instead of a number):
 * - quanto, axis 0: groups of G consecutive elements of the `[1, heads, tokens, head_dim]` tensor
 *   (per token when G divides head_dim) — layout `token`; axis −1: per channel over the flattened
 *   heads × tokens rows — layout `flat-channel` (optimum-quanto `tensor/grouped.py` `group`).
 * - hqq, axis 0 (Transformers' default): `W.reshape([G, -1])`, groups of G elements spaced
 *   numel / G apart, which regroup whenever the cache grows — layout `strided`; axis 1:
 *   `W.reshape([-1, G])`, like quanto axis 0 — layout `token` (hqq 0.2.8.post1 `Quantizer.quantize`).
 * - Scale and zero are kept in the cache's dtype (fp32 for the bundled model, so the metadata
 *   follows it); the `-fp16` presets round them to fp16, which is what the same cache of an fp16
 *   model stores.
 *
 * The KIVI rows are KIVI's own scheme (arXiv 2402.02750; jy-yuan/KIVI `quant/new_pack.py`): keys
 * per channel in blocks of G tokens, values per token, G = 32 (KIVI's docs/long_bench.md: "32
 * group size and 128 residual length") — not something Transformers' cache can be configured to do.
 */
import type { CacheBackend, CacheConfig } from '../../lib/model/protocol';
import type { QuantConfig } from '../../lib/quant/index';

export const PRESET_IDS = [
  'fp32',
  'quanto-int4',
  'quanto-int2',
  'quanto-int4-fp16',
  'quanto-int2-fp16',
  'hqq-int8',
  'hqq-int4',
  'hqq-int2',
  'hqq-int4-axis1',
  'hqq-int2-axis1',
  'quanto-int4-axis-1',
  'quanto-int2-axis-1',
  'quanto-int8',
  'kivi-int4',
  'kivi-int2',
] as const;
export type PresetId = (typeof PRESET_IDS)[number];

/** The default selection: the exact cache, Transformers' defaults for both backends at 4 and 2 bits, a setting Transformers cannot run, and KIVI. */
export const DEFAULT_PRESETS: readonly PresetId[] = [
  'fp32',
  'quanto-int4',
  'quanto-int2',
  'hqq-int4',
  'hqq-int2',
  'hqq-int2-axis1',
  'kivi-int2',
];

export interface Preset {
  id: PresetId;
  label: string;
  /** null = the exact cache. */
  key: QuantConfig | null;
  value: QuantConfig | null;
  /** The Transformers backend this preset is a setting of; null for the exact cache and KIVI's scheme. */
  backend: CacheBackend | null;
}

/** Grouping layouts; `strided` (HQQ axis 0) and `flat-channel` (quanto axis −1) join `token` and `channel` in src/lib/quant. */
type Layout = QuantConfig['axis'] | 'strided' | 'flat-channel';

const q = (
  bits: QuantConfig['bits'],
  groupSize: number,
  axis: Layout,
  method: QuantConfig['method'],
  metaDtype?: QuantConfig['metaDtype'],
): QuantConfig => ({ bits, groupSize, axis: axis as QuantConfig['axis'], method, ...(metaDtype ? { metaDtype } : {}) });

const both = (id: PresetId, label: string, backend: CacheBackend | null, c: QuantConfig, v: QuantConfig = c): Preset => ({
  id,
  label,
  key: c,
  value: v,
  backend,
});

export const PRESETS: Readonly<Record<PresetId, Preset>> = {
  fp32: { id: 'fp32', label: 'fp32 (exact)', key: null, value: null, backend: null },
  'quanto-int4': both('quanto-int4', 'quanto int4, axis 0, G64', 'quanto', q(4, 64, 'token', 'minmax')),
  'quanto-int2': both('quanto-int2', 'quanto int2, axis 0, G64', 'quanto', q(2, 64, 'token', 'minmax')),
  'quanto-int4-fp16': both(
    'quanto-int4-fp16',
    'quanto int4, axis 0, G64, fp16 scale/zero (as an fp16 model)',
    'quanto',
    q(4, 64, 'token', 'minmax', 'fp16'),
  ),
  'quanto-int2-fp16': both(
    'quanto-int2-fp16',
    'quanto int2, axis 0, G64, fp16 scale/zero (as an fp16 model)',
    'quanto',
    q(2, 64, 'token', 'minmax', 'fp16'),
  ),
  'hqq-int8': both('hqq-int8', 'hqq int8, axis 0, G64', 'hqq', q(8, 64, 'strided', 'hqq')),
  'hqq-int4': both('hqq-int4', 'hqq int4, axis 0, G64 (Transformers’ hqq default)', 'hqq', q(4, 64, 'strided', 'hqq')),
  'hqq-int2': both('hqq-int2', 'hqq int2, axis 0, G64', 'hqq', q(2, 64, 'strided', 'hqq')),
  'hqq-int4-axis1': both('hqq-int4-axis1', 'hqq int4, axis 1, G64', 'hqq', q(4, 64, 'token', 'hqq')),
  'hqq-int2-axis1': both('hqq-int2-axis1', 'hqq int2, axis 1, G64', 'hqq', q(2, 64, 'token', 'hqq')),
  'quanto-int4-axis-1': both('quanto-int4-axis-1', 'quanto int4, axis −1, G32', 'quanto', q(4, 32, 'flat-channel', 'minmax')),
  'quanto-int2-axis-1': both('quanto-int2-axis-1', 'quanto int2, axis −1, G32', 'quanto', q(2, 32, 'flat-channel', 'minmax')),
  'quanto-int8': both('quanto-int8', 'quanto int8, axis 0, G64', 'quanto', q(8, 64, 'token', 'minmax')),
  'kivi-int4': both(
    'kivi-int4',
    'KIVI’s own scheme, int4: per-head key blocks of 32 tokens, values per token (not a Transformers setting)',
    null,
    q(4, 32, 'channel', 'minmax'),
    q(4, 32, 'token', 'minmax'),
  ),
  'kivi-int2': both(
    'kivi-int2',
    'KIVI’s own scheme, int2: per-head key blocks of 32 tokens, values per token (not a Transformers setting)',
    null,
    q(2, 32, 'channel', 'minmax'),
    q(2, 32, 'token', 'minmax'),
  ),
};

/** The worker's cache config for a preset at residual length R. */
export function cacheConfigOf(id: PresetId, residualLength: number): CacheConfig {
  const p = PRESETS[id];
  if (!p.key || !p.value) return { kind: 'exact', label: p.label };
  return { kind: 'quantized', label: p.label, key: p.key, value: p.value, residualLength, ...(p.backend ? { backend: p.backend } : {}) };
}
