/**
 * Which cache configurations real Transformers cannot run, and where they stop, applied to the
 * simulated cache: a quantized cache that names a Transformers `backend` is checked at every
 * `_quantize` / `_dequantize` it performs, on the tensor Transformers would pass
 * (`[B = 1, kvHeads, tokens, headDim]`), and the simulation stops with the exception Transformers
 * would raise instead of producing a number nobody could reproduce.
 *
 * The rules themselves (constructor checks, optimum-quanto `group()` divisibility, hqq packing and
 * 3-bit dequantization, with their upstream sources) live in `src/lib/quant/transformers.ts`; this
 * module maps the engine's configs onto them and turns a verdict into an exception.
 */
import type { KVTensor, QuantConfig } from '../../lib/model/kv';
import { axisFor, checkTensor, transformersVerdict, type TransformersLayout } from '../../lib/quant/index';

export const BACKENDS = ['quanto', 'hqq'] as const;
export type Backend = (typeof BACKENDS)[number];

/** Thrown by the simulation where Transformers would raise; `message` is for readers. */
export class TransformersUnsupported extends Error {
  readonly backend: Backend;
  /** The exception Transformers (or its backend) raises, as Python prints it. */
  readonly raises: string;
  /** Cache length (tokens) of the tensor being quantized or dequantized when it fails; null = at construction. */
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
  return axisFor(backend, axis as TransformersLayout);
}

type Shape = Pick<KVTensor, 'heads' | 'tokens' | 'headDim'>;

/** Constructor-time checks (`QuantoQuantizedLayer` / `HQQQuantizedLayer.__init__`). Throws `TransformersUnsupported`. */
export function checkLayerConfig(backend: Backend, key: QuantConfig, value: QuantConfig): void {
  for (const [name, c] of [
    ['key', key],
    ['value', value],
  ] as const) {
    const expected = backend === 'quanto' ? 'minmax' : 'hqq';
    if (c.method !== expected) {
      throw new TransformersUnsupported(
        backend,
        `The ${backend} backend quantizes with ${expected === 'minmax' ? 'min-max (MaxOptimizer)' : 'HQQ'}, not ${c.method}.`,
        'not a Transformers setting',
        null,
      );
    }
    if (transformersAxis(backend, c.axis) === null) {
      throw new TransformersUnsupported(
        backend,
        `Transformers' ${backend} backend has no ${c.axis} grouping for ${name}s.`,
        'not a Transformers setting',
        null,
      );
    }
  }
  if (value.bits !== key.bits || value.groupSize !== key.groupSize) {
    throw new TransformersUnsupported(
      backend,
      'Transformers uses one nbits and one q_group_size for keys and values.',
      'not a Transformers setting',
      null,
    );
  }
  // Only the constructor's verdict is wanted here: a one-token schedule on a geometry every group size fits.
  const v = transformersVerdict(
    {
      backend,
      nbits: key.bits,
      axisKey: transformersAxis(backend, key.axis)!,
      axisValue: transformersAxis(backend, value.axis)!,
      qGroupSize: key.groupSize,
      residualLength: 0,
    },
    { batch: 1, kvHeads: 8, headDim: key.groupSize },
    { promptTokens: 8, decodeSteps: 0 },
  );
  const f = v.errors.find((e) => e.stage === 'construct');
  if (f) throw new TransformersUnsupported(backend, f.cause, f.error, null);
}

function check(backend: Backend, t: Shape, c: QuantConfig, when: 'quantize' | 'dequantize'): void {
  const r = checkTensor(backend, c.bits, transformersAxis(backend, c.axis)!, c.groupSize, {
    batch: 1,
    kvHeads: t.heads,
    tokens: t.tokens,
    headDim: t.headDim,
  });
  if (r && r.when === when) throw new TransformersUnsupported(backend, r.cause, r.error, t.tokens);
}

/** What `_quantize` raises for a `[1, heads, tokens, headDim]` tensor. Throws `TransformersUnsupported`. */
export function checkQuantize(backend: Backend, t: Shape, c: QuantConfig): void {
  check(backend, t, c, 'quantize');
}

/** What `_dequantize` raises at the next decode step for a tensor quantized at this shape. Throws `TransformersUnsupported`. */
export function checkDequantize(backend: Backend, t: Shape, c: QuantConfig): void {
  check(backend, t, c, 'dequantize');
}
