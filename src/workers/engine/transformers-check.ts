/**
 * Which cache configurations real Transformers cannot run, and where they stop: a quantized
 * cache that names a Transformers `backend` is checked at every `_quantize` / `_dequantize` the
 * simulation performs, on the tensor Transformers would pass (`[B = 1, kvHeads, tokens, headDim]`),
 * and the simulation stops with the exception Transformers would raise instead of producing a
 * number nobody could reproduce.
 *
 * Sources (all readable upstream):
 * - Transformers 5.x `src/transformers/cache_utils.py`: `QuantoQuantizedLayer.__init__` accepts
 *   nbits 2 or 4 and axis 0 or −1; `HQQQuantizedLayer.__init__` nbits 1, 2, 3, 4, 8 and axis 0 or 1.
 * - optimum-quanto (huggingface/optimum-quanto e33f820) `optimum/quanto/tensor/grouped.py` `group`:
 *   `axis_numel = numel // shape[axis]`; raises `ValueError("Group size (G) must be a divisor of
 *   (axis_numel)")` when `G > axis_numel or axis_numel % G != 0`. With B = 1, axis 0 divides the
 *   element count H·T·D, axis −1 the row count B·H·T.
 * - hqq 0.2.8.post1 (mobiusml/hqq e0b1d00) `hqq/core/quantize.py` `Quantizer.quantize` asserts
 *   `numel % group_size == 0`; `hqq/core/bitpack.py` `pack_{4,2,1}bit_u8` cut the rows of the
 *   grouped matrix (`[numel/G, G]` at axis 1, `[G, numel/G]` at axis 0) into 8/b equal slices,
 *   which fails (or leaves a tensor `dequantize` cannot reshape) unless rows % (8/b) == 0;
 *   at axis 1 `Quantizer.dequantize` trims unpacked 3-bit rows to `shape[0]·shape[1] // group_size`
 *   rows, which for a 4-D cache tensor (`shape[1]` = heads) is not the row count, so 3 bits at
 *   axis 1 crash at the first dequantization (the first decode step); axis 0 trims to G, correctly.
 *
 * This module stands in for `src/lib/quant/transformers.ts` until that lands.
 */
import type { KVTensor, QuantConfig } from '../../lib/model/kv';

export const BACKENDS = ['quanto', 'hqq'] as const;
export type Backend = (typeof BACKENDS)[number];

/** Thrown by the simulation where Transformers would raise; `message` is for readers. */
export class TransformersUnsupported extends Error {
  readonly backend: Backend;
  /** The exception Transformers (or its backend) raises, as Python prints it. */
  readonly raises: string;
  /** Cache length (tokens) of the tensor being quantized when it fails; null = at construction. */
  readonly atTokens: number | null;
  constructor(backend: Backend, message: string, raises: string, atTokens: number | null) {
    super(message);
    this.name = 'TransformersUnsupported';
    this.backend = backend;
    this.raises = raises;
    this.atTokens = atTokens;
  }
}

/** Transformers' `axis_key`/`axis_value` for one of our grouping layouts, or null when the backend has none. */
export function transformersAxis(backend: Backend, axis: string): number | null {
  if (backend === 'quanto') return axis === 'token' ? 0 : axis === 'flat-channel' ? -1 : null;
  return axis === 'strided' ? 0 : axis === 'token' ? 1 : null;
}

type Shape = Pick<KVTensor, 'heads' | 'tokens' | 'headDim'>;

/** Constructor-time checks (`QuantoQuantizedLayer` / `HQQQuantizedLayer.__init__`). Throws `TransformersUnsupported`. */
export function checkLayerConfig(backend: Backend, key: QuantConfig, value: QuantConfig): void {
  for (const [name, c] of [['key', key], ['value', value]] as const) {
    const expected = backend === 'quanto' ? 'minmax' : 'hqq';
    if (c.method !== expected) {
      throw new TransformersUnsupported(backend, `The ${backend} backend quantizes with ${expected === 'minmax' ? 'min-max (MaxOptimizer)' : 'HQQ'}, not ${c.method}.`, 'not a Transformers setting', null);
    }
    const axis = transformersAxis(backend, c.axis);
    if (axis === null) {
      const allowed = backend === 'quanto' ? '0 or -1' : '0 or 1';
      throw new TransformersUnsupported(backend, `Transformers' ${backend} backend has no ${c.axis} grouping for ${name}s (axis_${name} must be ${allowed}).`, `ValueError: \`axis_${name}\` for \`${backend}\` backend has to be one of [${allowed.replace(' or ', ', ')}]`, null);
    }
  }
  const bits = key.bits;
  if (value.bits !== bits || value.groupSize !== key.groupSize) {
    throw new TransformersUnsupported(backend, 'Transformers uses one nbits and one q_group_size for keys and values.', 'not a Transformers setting', null);
  }
  const allowed = backend === 'quanto' ? [2, 4] : [1, 2, 3, 4, 8];
  if (!allowed.includes(bits)) {
    throw new TransformersUnsupported(
      backend,
      `Transformers' ${backend} backend accepts nbits ${allowed.join(', ')}, not ${bits}.`,
      `ValueError: \`nbits\` for \`${backend}\` backend has to be one of [${allowed.map((b) => `\`${b}\``).join(', ')}] but got ${bits}`,
      null,
    );
  }
}

/** The check `_quantize` performs on a `[1, heads, tokens, headDim]` tensor. Throws `TransformersUnsupported`. */
export function checkQuantize(backend: Backend, t: Shape, c: QuantConfig): void {
  const numel = t.heads * t.tokens * t.headDim;
  const G = c.groupSize;
  const axis = transformersAxis(backend, c.axis);
  if (backend === 'quanto') {
    // group(): axis_numel = numel // shape[axis]; shape[0] = B = 1, shape[-1] = headDim.
    const axisNumel = axis === 0 ? numel : t.heads * t.tokens;
    if (G > axisNumel || axisNumel % G !== 0) {
      throw new TransformersUnsupported(
        backend,
        `optimum-quanto cannot group ${t.tokens} cached token${t.tokens === 1 ? '' : 's'}: with axis ${axis} its groups of ${G} must divide ${axis === 0 ? 'heads × tokens × head_dim' : 'heads × tokens'} = ${axisNumel}.`,
        `ValueError: Group size (${G}) must be a divisor of (${axisNumel})`,
        t.tokens,
      );
    }
    return;
  }
  if (numel % G !== 0) {
    throw new TransformersUnsupported(backend, `HQQ needs the element count (${numel}) to be a multiple of the group size ${G}.`, `AssertionError: group_size should be divisble by the total tensor dimensions. shape: torch.Size([1, ${t.heads}, ${t.tokens}, ${t.headDim}]), group_size: ${G}`, t.tokens);
  }
  const perByte = c.bits === 4 ? 2 : c.bits === 2 ? 4 : c.bits === 1 ? 8 : 1;
  const rows = axis === 0 ? G : numel / G;
  if (rows % perByte !== 0) {
    throw new TransformersUnsupported(
      backend,
      `HQQ's ${c.bits}-bit packing splits the ${rows} rows of the grouped tensor into ${perByte} equal slices, which fails for ${t.tokens} cached token${t.tokens === 1 ? '' : 's'} (axis ${axis}: rows = ${axis === 0 ? 'group size' : 'heads × tokens × head_dim / group size'}).`,
      `RuntimeError in hqq/core/bitpack.py pack_${c.bits}bit_u8 (rows ${rows} not a multiple of ${perByte})`,
      t.tokens,
    );
  }
}

/** The check `_dequantize` performs (HQQ 3-bit row trimming at axis 1). Throws `TransformersUnsupported`. */
export function checkDequantize(backend: Backend, t: Shape, c: QuantConfig): void {
  if (backend === 'hqq' && c.bits === 3 && transformersAxis(backend, c.axis) === 1) {
    throw new TransformersUnsupported(
      backend,
      `HQQ's 3-bit dequantization at axis 1 trims the unpacked rows to shape[0]·shape[1] / group size, which is wrong for a 4-D cache tensor: it crashes at the first decode step (${t.tokens} tokens cached).`,
      'RuntimeError: shape mismatch in hqq Quantizer.dequantize (3bit_32)',
      t.tokens,
    );
  }
}
