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
 * Grouping layouts of the `[heads, tokens, headDim]` tensor (row-major, N = heads · tokens · headDim elements), named
 * for what each library really does (`groupMembers` in grouping.ts lists a group's elements):
 * - `token`: runs of G consecutive elements of the flattened tensor = quanto `axis=0`
 *   (optimum-quanto `tensor/grouped.py` `group()`: `base.reshape([-1, G])`) = HQQ `axis=1`
 *   (hqq 0.2.8.post1 `hqq/core/quantize.py` `Quantizer.quantize`: `W.reshape([-1, group_size])`). N % G == 0.
 * - `channel`: KIVI's per-head, per-channel groups of G consecutive tokens (KIVI `quant/new_pack.py`), a trailing
 *   partial group allowed. KIVI's own scheme, not a Transformers setting.
 * - `strided`: HQQ `axis=0` (`W.reshape([group_size, -1])`, min/max along dim 0): group j = the G elements
 *   {j, j + N/G, j + 2N/G, …}. N % G == 0. Membership depends on N, so it changes whenever the cache grows.
 * - `flat-channel`: quanto `axis=-1` (`group()` reshapes to (heads·tokens/G, G, headDim), permutes to
 *   (G, headDim, heads·tokens/G); `MaxOptimizer` reduces dim 0): per channel d, groups of G consecutive rows of the
 *   flattened (head, token) index, straddling heads when tokens % G ≠ 0. (heads · tokens) % G == 0.
 */
export const AXES = ['token', 'channel', 'strided', 'flat-channel'] as const;
export type Axis = (typeof AXES)[number];

/** Quantizers: quanto `MaxOptimizer` (minmax), HQQ proximal optimizer (hqq), symmetric absmax. */
export const METHODS = ['minmax', 'hqq', 'absmax'] as const;
export type Method = (typeof METHODS)[number];

/** Storage precision of per-group metadata (scale and zero). Transformers keeps them in the KV dtype (fp16). */
export const META_DTYPES = ['fp16', 'fp32'] as const;
export type MetaDtype = (typeof META_DTYPES)[number];
