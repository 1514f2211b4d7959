/**
 * A widget's quantization choice, checked against Transformers 5.x: which `QuantizedCache`
 * setting it is (method → backend, grouping layout → axis number) and what Transformers would do
 * with it on this model and prompt (`transformersVerdict` in src/lib/quant/transformers.ts). Pure, no DOM.
 */
import {
  axisFor,
  transformersVerdict,
  type TransformersBackend,
  type TransformersLayout,
  type TransformersVerdict,
} from '../../lib/quant/index';
import { axisInfo } from './axis-labels';

export interface WidgetQuantChoice {
  method: string;
  bits: number;
  group: number;
  kaxis: string;
  vaxis: string;
  residual: number;
}

export interface WidgetGeometry {
  kvHeads: number;
  headDim: number;
  slidingWindow?: number | null;
}

/** What the check found: a verdict, or why the choice is not a Transformers setting at all. */
export type TransformersCheck =
  | { kind: 'unquantized' }
  | { kind: 'not-transformers'; reason: string }
  | { kind: 'verdict'; backend: TransformersBackend; axisKey: number; axisValue: number; verdict: TransformersVerdict; context: string };

const BACKEND_OF: Record<string, TransformersBackend | undefined> = { minmax: 'quanto', hqq: 'hqq' };

/**
 * `decodeSteps` single-token updates after a prompt of `promptTokens` (the widget says how many it assumes).
 * 16 bits (the widgets' "no quantization") has nothing to check.
 */
export function checkInTransformers(c: WidgetQuantChoice, g: WidgetGeometry, promptTokens: number, decodeSteps: number): TransformersCheck {
  if (c.bits === 16) return { kind: 'unquantized' };
  const backend = BACKEND_OF[c.method];
  if (!backend)
    return {
      kind: 'not-transformers',
      reason: `${c.method} is not a Transformers backend (its quantized cache offers quanto’s min-max and HQQ).`,
    };
  const axisKey = axisFor(backend, c.kaxis as TransformersLayout);
  const axisValue = axisFor(backend, c.vaxis as TransformersLayout);
  for (const [which, layout, axis] of [
    ['Keys', c.kaxis, axisKey],
    ['Values', c.vaxis, axisValue],
  ] as const) {
    if (axis === null) {
      const info = axisInfo(layout);
      return {
        kind: 'not-transformers',
        reason: info.inTransformers
          ? `${which}: ${info.label} is not a ${backend} setting in Transformers (${backend} offers ${backend === 'quanto' ? 'axis 0 and −1' : 'axis 0 and 1'}).`
          : `${which}: ${info.label}. ${info.description}`,
      };
    }
  }
  const verdict = transformersVerdict(
    { backend, nbits: c.bits, axisKey: axisKey!, axisValue: axisValue!, qGroupSize: c.group, residualLength: c.residual },
    { batch: 1, kvHeads: g.kvHeads, headDim: g.headDim, slidingWindow: g.slidingWindow ?? null },
    { promptTokens, decodeSteps },
  );
  const context = `backend="${backend}", nbits=${c.bits}, axis_key=${axisKey}, axis_value=${axisValue}, q_group_size=${c.group}, residual_length=${c.residual}; ${promptTokens}-token prompt, ${decodeSteps + 1} new tokens`;
  return { kind: 'verdict', backend, axisKey: axisKey!, axisValue: axisValue!, verdict, context };
}
