/**
 * Enumerations of the quantization engine: one `as const` array per concept, types derived from them.
 * Schemas, codecs and widgets import these instead of retyping literals (Conventions §9).
 *
 * BITS follows transformers' `QuantizedCacheConfig.validate()` (nbits ∈ {1, 2, 3, 4, 8}; quanto itself only
 * ships int2/int4, HQQ ships all five).
 */
export const BITS = [1, 2, 3, 4, 8] as const;
export type Bits = (typeof BITS)[number];

/** Bit widths accepted by `kvCacheBytes`: the quantized ones plus 16 = unquantized. */
export const MEMORY_BITS = [1, 2, 3, 4, 8, 16] as const;
export type MemoryBits = (typeof MEMORY_BITS)[number];

/**
 * Grouping axis.
 * - `token`: quanto `axis=0` / HQQ `axis=1` (runs of `groupSize` consecutive elements of the row-major tensor).
 * - `channel`: KIVI per-channel keys (for each head and channel, runs of `groupSize` consecutive tokens).
 */
export const AXES = ['token', 'channel'] as const;
export type Axis = (typeof AXES)[number];

/** Quantizers: quanto `MaxOptimizer` (minmax), HQQ proximal optimizer (hqq), symmetric absmax. */
export const METHODS = ['minmax', 'hqq', 'absmax'] as const;
export type Method = (typeof METHODS)[number];

/** Storage precision of per-group metadata (scale and zero). Transformers keeps them in the KV dtype (fp16). */
export const META_DTYPES = ['fp16', 'fp32'] as const;
export type MetaDtype = (typeof META_DTYPES)[number];
