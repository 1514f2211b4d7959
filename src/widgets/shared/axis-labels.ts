/**
 * How widgets name the engine's grouping layouts (`AXES` in `src/lib/quant/enums.ts`), in the terms
 * Transformers users know: which `axis_key` / `axis_value` of which backend produces each layout, and
 * which layout Transformers cannot produce at all (KIVI's per-head channel groups).
 * Sources: optimum-quanto `optimum/quanto/tensor/grouped.py` `group()` (axis 0 and −1); hqq 0.2.8.post1
 * `hqq/core/quantize.py` `Quantizer.quantize` (`W.reshape([-1, G])` for axis 1, `[G, -1]` for axis 0).
 */
import { AXES } from '../../lib/quant/index';

export interface AxisInfo {
  /** Short label for a select option. */
  label: string;
  /** One sentence: what shares a group, and which Transformers setting gives it. */
  description: string;
  /** Whether any Transformers backend produces this layout. */
  inTransformers: boolean;
}

const INFO: Record<string, AxisInfo> = {
  token: {
    label: 'per token (quanto axis 0 · HQQ axis 1)',
    description:
      'Groups are runs of G consecutive elements of one token’s head vector: quanto axis 0 (Transformers’ quanto default) or HQQ axis 1.',
    inTransformers: true,
  },
  strided: {
    label: 'strided (HQQ axis 0, its default)',
    description:
      'HQQ axis 0 reshapes the whole flattened cache to [G, N/G]: a group is G elements spaced N/G apart, so its members change every time the cache grows. This is Transformers’ default for the hqq backend.',
    inTransformers: true,
  },
  'flat-channel': {
    label: 'per channel over rows (quanto axis −1)',
    description:
      'quanto axis −1: one channel across G consecutive (head, token) rows; groups straddle heads when the token count is not a multiple of G, and Transformers raises unless heads × tokens is.',
    inTransformers: true,
  },
  channel: {
    label: 'per channel per head (KIVI; not in Transformers)',
    description: 'KIVI’s own key grouping: one channel of one head over G consecutive tokens. Not available in Transformers.',
    inTransformers: false,
  },
};

/** Facts about a layout (a generic entry for a layout added to the engine later). */
export function axisInfo(axis: string): AxisInfo {
  return INFO[axis] ?? { label: axis, description: `Grouping layout "${axis}".`, inTransformers: false };
}

/** Select options for every layout the engine offers, in the engine's order. */
export function axisOptions<T extends string = (typeof AXES)[number]>(): { value: T; label: string }[] {
  return AXES.map((a) => ({ value: a as unknown as T, label: axisInfo(a).label })); // T defaults to the engine's Axis; widgets narrow to their state's type
}
